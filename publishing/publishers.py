"""Publishers: where an approved posting goes. A small interface; adding another CMS is one class.

``PublicZonePublisher`` (the default) makes the posting visible on the product's own public zone
(``web/public.py`` shows published postings; nothing to send). ``HttpSitePublisher`` posts JSON to
an office's existing web site and sends the posting's idempotency key with every request, and can
look a posting up by that key, so a retry after an ambiguous failure never posts twice.

The external site's contract (what an office's web team implements):

    POST {base}/postings      Authorization: Bearer <token>, Idempotency-Key: <key>, JSON body
                              -> 200/201 {"id": "...", "url": "https://..."}
    GET  {base}/postings?idempotency_key=<key>
                              -> 200 {"id": "...", "url": "..."} or 404 if there is no such post
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from workflow.config import PublishSettings, load_publish_settings


@dataclass(frozen=True)
class PostingFile:
    id: int
    name: str
    media_type: str
    sha256: str
    content: bytes = field(repr=False)
    alt_text: str | None = None
    caption: str | None = None  # shown under the photo in the album

    @property
    def is_photo(self) -> bool:
        return self.media_type.startswith("image/")


@dataclass(frozen=True)
class Posting:
    """What is published: plain values, read from the case when the attempt starts."""

    case_id: int
    office_code: str
    office_name: str
    unit_name: str
    heading: str
    body: str
    activity_date: str | None
    roc_year: int
    files: tuple[PostingFile, ...] = ()

    def payload(self, key: str) -> dict[str, Any]:
        def one(f: PostingFile) -> dict[str, Any]:
            d: dict[str, Any] = {"name": f.name, "media_type": f.media_type, "sha256": f.sha256,
                                 "size": len(f.content), "content_base64": base64.b64encode(f.content).decode()}
            if f.is_photo:
                d["alt"] = f.alt_text or ""
                d["caption"] = f.caption or ""
            return d

        return {
            "idempotency_key": key,
            "title": self.heading,
            "body": self.body,
            "activity_date": self.activity_date,
            "unit": self.unit_name,
            "office": self.office_name,
            "photos": [one(f) for f in self.files if f.is_photo],
            "attachments": [one(f) for f in self.files if not f.is_photo],
        }


@dataclass(frozen=True)
class Published:
    url: str
    remote_id: str | None = None


class PublishError(Exception):
    """A failed attempt. ``transient``: worth trying again later (timeouts, 5xx, 429, refused).
    ``ambiguous``: the post may have landed (a timeout after sending), so look it up first."""

    def __init__(self, reason: str, reason_en: str, *, transient: bool, ambiguous: bool = False,
                 retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(reason_en)
        self.status = status  # the HTTP status, when there was one
        self.reason = reason
        self.reason_en = reason_en
        self.transient = transient
        self.ambiguous = ambiguous
        self.retry_after = retry_after


class Publisher(ABC):
    name: str

    @abstractmethod
    def publish(self, posting: Posting, key: str) -> Published:
        """Publish ``posting`` once; the same ``key`` must never produce a second post."""

    @abstractmethod
    def lookup(self, posting: Posting, key: str) -> Published | None:
        """The post made earlier with ``key``, if there is one (called before any retry)."""


class PublicZonePublisher(Publisher):
    """The product's own 性別主流化專區: the posting is public once its case is `published`."""

    name = "public_zone"

    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url.rstrip("/")

    def url_for(self, posting: Posting) -> str:
        return f"{self.base_url}/zone/{posting.office_code}/postings/{posting.case_id}"

    def publish(self, posting: Posting, key: str) -> Published:
        return Published(self.url_for(posting), str(posting.case_id))

    def lookup(self, posting: Posting, key: str) -> Published | None:
        return None  # publishing is the state change itself: nothing can half-happen


class HttpSitePublisher(Publisher):
    """An office's existing web site, over HTTP with a bearer token (standard library only)."""

    name = "external_site"

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(self, method: str, url: str, key: str, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key, "Accept": "application/json",
                   "User-Agent": "caseflow-publisher"}
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, _json(resp.read())
        except urllib.error.HTTPError as exc:
            raise _http_error(exc, sent=body is not None) from None
        except TimeoutError as exc:
            raise PublishError("網站在時限內沒有回應", f"the site did not answer in time ({exc})",
                               transient=True, ambiguous=body is not None) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise PublishError("網站在時限內沒有回應", "the site did not answer in time", transient=True,
                                   ambiguous=body is not None) from None
            raise PublishError("無法連線到網站（網站可能暫時關閉）", f"cannot reach the site: {exc.reason}",
                               transient=True) from None
        except (ConnectionError, OSError) as exc:
            raise PublishError("與網站的連線中斷", f"the connection to the site broke: {exc}", transient=True,
                               ambiguous=body is not None) from None

    def publish(self, posting: Posting, key: str) -> Published:
        body = json.dumps(posting.payload(key), ensure_ascii=False).encode()
        _status, data = self._request("POST", f"{self.base_url}/postings", key, body)
        return _published(data)

    def lookup(self, posting: Posting, key: str) -> Published | None:
        url = f"{self.base_url}/postings?" + urllib.parse.urlencode({"idempotency_key": key})
        try:
            _status, data = self._request("GET", url, key)
        except PublishError as exc:
            if exc.status == 404:
                return None
            raise
        return _published(data)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _published(data: dict[str, Any]) -> Published:
    url = data.get("url")
    if not isinstance(url, str) or not url:
        raise PublishError("網站回應中沒有刊登網址", "the site's answer has no URL", transient=True, ambiguous=True)
    rid = data.get("id")
    return Published(url, str(rid) if rid is not None else None)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _http_error(exc: urllib.error.HTTPError, *, sent: bool) -> PublishError:
    code = exc.code
    detail = _json(exc.read()).get("error") if exc.fp is not None else None
    more = f"：{detail}" if detail else ""
    if code == 429:
        err = PublishError("網站暫時限制刊登次數，稍後會自動重試", "the site is rate limiting (429)", transient=True,
                           retry_after=_retry_after(exc.headers.get("Retry-After")))
    elif code >= 500 or code == 408:
        err = PublishError(f"網站暫時發生錯誤（HTTP {code}），稍後會自動重試", f"the site failed (HTTP {code})",
                           transient=True, ambiguous=sent and code in (500, 502, 504),
                           retry_after=_retry_after(exc.headers.get("Retry-After")))
    elif code in (401, 403):
        err = PublishError(f"網站拒絕了刊登帳號的權杖（HTTP {code}），請資訊人員檢查設定",
                           f"the site refused the token (HTTP {code})", transient=False)
    elif code == 413:
        err = PublishError("網站拒收：檔案總量太大（HTTP 413），請縮小照片或減少附件",
                           "the site refused: too large (HTTP 413)", transient=False)
    elif code == 404 and not sent:
        err = PublishError("網站找不到這則刊登", "no such posting on the site", transient=False)
    else:
        err = PublishError(f"網站拒收這則刊登（HTTP {code}）{more}", f"the site refused the posting (HTTP {code})"
                           + (f": {detail}" if detail else ""), transient=False)
    err.status = code
    return err


# CASEFLOW_PUBLISHER values: README.md documents "http_site"; "external_site" is the publisher's name.
PUBLISHER_NAMES = {"public_zone": "public_zone", "": "public_zone", "http_site": "external_site",
                   "external_site": "external_site"}


def configured_name(settings: PublishSettings) -> str:
    """The publisher CASEFLOW_PUBLISHER names, as recorded in the history (the value itself if unknown)."""
    return PUBLISHER_NAMES.get(settings.publisher.strip().lower(), settings.publisher)


def publisher_for(office_code: str, settings: PublishSettings | None = None) -> Publisher:
    """The configured publisher (the public zone unless an external site is configured)."""
    settings = settings or load_publish_settings()
    name = configured_name(settings)
    if name not in PUBLISHER_NAMES.values():  # a typo must not quietly publish somewhere else
        raise PublishError(f"刊登方式設定錯誤（CASEFLOW_PUBLISHER={settings.publisher}），請資訊人員設定",
                           f"unknown publisher {settings.publisher!r} (CASEFLOW_PUBLISHER)", transient=False)
    if name == "external_site":
        if not settings.site_url or not settings.site_token:
            raise PublishError("外部網站的網址或權杖尚未設定，請資訊人員設定",
                               "the external site's URL or token is not configured", transient=False)
        return HttpSitePublisher(settings.site_url, settings.site_token, timeout=settings.timeout_seconds)
    return PublicZonePublisher(settings.public_base_url)
