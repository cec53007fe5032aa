"""The API page's words in Traditional Chinese: the OpenAPI document (for programs) is in English,
the page people read is zh-TW first. Keyed by operation ("GET /api/v1/me"), parameter or body
property name, and status code; anything without words here is shown in English, marked so."""

from __future__ import annotations

SUMMARIES = {
    "GET /api/v1/me": "權杖所屬的使用者：機關、課室與今天的角色（本人與代理）。",
    "GET /api/v1/kinds": "此使用者可以建立的案件類別（POST /cases），以及各類別的課室與欄位。",
    "GET /api/v1/cases": ("您可以檢視的本所案件，由新到舊，每次 limit 件（最多 200 件）；"
                          "把 next_cursor 當作 cursor 可取得下一批。"),
    "POST /api/v1/cases": "建立案件（草稿），可帶部分或全部欄位；欄位有誤時回覆 422，逐欄說明。",
    "GET /api/v1/cases/{case_id}": "單一案件：欄位、狀態、版本、期限、此使用者目前可執行的動作、歷程與文件。",
    "PATCH /api/v1/cases/{case_id}/fields": ("修改草稿的欄位（與名稱）：給值即取代，null 即移除；"
                                             "version 須為目前的版本。"),
    "POST /api/v1/cases/{case_id}/transitions": "執行一個動作（案件 actions 中的 trigger），並帶您讀到的 version。",
    "GET /api/v1/cases/{case_id}/documents/{document_id}/{fmt}": "下載案件產生的文件（docx、odt 或 pdf）。",
    "GET /api/v1/queue": "等待此使用者處理的案件，由舊到新（即「我的工作」），每頁 50 件。",
    "GET /api/v1/search": "在您可以檢視的案件中搜尋標題、欄位內容與審核意見；中文可用詞的任何部分查到，每頁 20 件。",
    "GET /api/v1/notifications": "此使用者的通知，由新到舊；代理他人時註明為誰代理。",
    "POST /api/v1/notifications/{notification_id}/read": "把一則通知標為已讀；別人的通知回覆 404。",
}

PARAMETERS = {
    "state": "案件狀態代碼，例：section_review（須為流程中存在的狀態）",
    "kind": "案件類別代碼，例：training_report（須為存在的類別）",
    "year": "民國年，例：115",
    "cursor": "上一批回傳的 next_cursor（案件由新到舊排列）",
    "limit": "每批件數，1 至 200",
    "case_id": "案件編號",
    "document_id": "文件編號",
    "fmt": "檔案格式：docx、odt 或 pdf",
    "page": "頁次，從 1 開始（每頁 50 件）",
    "unit_id": "課室編號；此類別只能由一個課室建立時可省略",
    "roc_year": "民國年",
    "period": "期別：Q1 至 Q4、Y（全年度），不定期的類別省略",
    "title": "案件名稱",
    "fields": "欄位內容（JSON 物件）；修改時為合併修補：給值即取代，null 即移除",
    "version": "您讀到的版本；案件已有更新版本時回覆 409",
    "trigger": "動作代碼，須為案件 actions 之一",
    "comment": "意見；退回修正時必填",
    "unread": "只列未讀的通知（true／false）",
    "q": "要找的字詞（每個都須找到），最多 100 字、8 個詞",
    "notification_id": "通知編號",
}

STATUSES = {
    "200": "成功",
    "201": "已建立",
    "400": "請求格式有誤（例如 JSON 無法解析），請檢查後重送。",
    "401": "需要有效的 API 權杖：請加上標頭「Authorization: Bearer 權杖」；權杖在「API 權杖」頁建立。",
    "403": "您沒有權限執行此動作。",
    "404": "找不到，或您沒有權限檢視。",
    "409": "案件已有變動，請重新讀取後再試。",
    "413": "請求內容超過上限（1 MB）。",
    "422": "有欄位需要修正，請看 errors。",
    "429": "請求太頻繁，請稍候再試。",
}
