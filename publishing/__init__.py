"""Web publishing (R7): checks before publishing, publishers (the product's own public zone, an
office's external site over HTTP), and the exactly-once publishing step the background task runs."""
