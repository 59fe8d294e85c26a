"""English and Traditional Chinese: the message catalogue (a Python dict, so
nothing is compiled at build time and nothing is fetched at run time) and the
Babel formatting of dates, numbers and money.

The UI language is the reader's (cookie, then Accept-Language); the currency
and time zone are the property's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, get_currency_precision

LANGUAGES = ("en", "zh_TW")
DEFAULT_LANGUAGE = "en"
LANGUAGE_LABELS = {"en": "English", "zh_TW": "繁體中文"}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "app_name": "Powerlet",
        "staff_sign_in": "Landlord and staff sign-in",
        "tenant_sign_in": "Tenant sign-in",
        "email": "E-mail",
        "password": "Password",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "support": "Support",
        "signin_failed": "Incorrect e-mail or password.",
        "signin_throttled": "Too many failed attempts. Try again in {minutes} minutes.",
        "wrong_screen_staff": "This account is a tenant account. Use the tenant sign-in.",
        "wrong_screen_tenant": "This account is a staff account. Use the landlord and staff sign-in.",
        "no_access": "This account has no access to this portal.",
        "forgot_password": "Forgot your password?",
        "tenant_link": "Are you a tenant? Sign in here",
        "staff_link": "Landlord or staff? Sign in here",
        "new_password_title": "Choose a new password",
        "new_password_intro": "This is your first sign-in. Choose your own password.",
        "new_password": "New password",
        "password_rule": "At least 10 characters with upper-case, lower-case letters and a digit.",
        "password_rejected": "That password does not meet the rules.",
        "save_password": "Save password and sign in",
        "reset_title": "Reset your password",
        "reset_intro": "Enter your e-mail. If it has an account, we send a reset code.",
        "send_code": "Send reset code",
        "code_sent": "If the address has an account, a code is on its way.",
        "code": "Reset code",
        "reset_password": "Set new password",
        "reset_done": "Your password has been changed. Sign in with it.",
        "code_rejected": "The code is wrong or has expired.",
        "dashboard": "Dashboard",
        "properties": "Properties",
        "property": "Property",
        "all_properties": "All properties",
        "units": "Units",
        "unit": "Unit",
        "search": "Search units",
        "filter": "Filter",
        "power_filter": "Power",
        "any": "Any",
        "next_page": "Next page",
        "first_page": "First page",
        "balance": "Balance",
        "bill_status": "Billing",
        "postpaid": "Postpaid (monthly bill)",
        "prepaid": "Prepaid",
        "vacant": "Vacant",
        "power": "Power",
        "power_on": "On",
        "power_off": "Off",
        "meter_online": "Meter online",
        "meter_offline": "Meter offline",
        "gateway": "Gateway",
        "online": "online",
        "offline": "offline",
        "open_alerts": "Open alerts",
        "no_alerts": "No open alerts.",
        "no_units": "No units match.",
        "latest_reading": "Latest reading",
        "taken_at": "taken {when}",
        "no_reading": "No reading yet.",
        "consumption": "Consumption, last {days} days (kWh per day)",
        "no_usage": "No consumption recorded in this period yet.",
        "ledger": "Ledger",
        "when": "When",
        "what": "What",
        "amount": "Amount",
        "note": "Note",
        "no_entries": "No entries yet.",
        "kind_top_up": "Credit added",
        "kind_consumption_charge": "Electricity used",
        "kind_fixed_charge": "Fixed charge",
        "kind_emergency_credit": "Emergency credit",
        "kind_adjustment": "Adjustment",
        "kind_refund": "Refund",
        "kind_transfer_out": "Transferred out",
        "kind_transfer_in": "Transferred in",
        "dispense_credit": "Add credit",
        "amount_major": "Amount ({currency})",
        "add_credit": "Add credit",
        "relay_control": "Power control",
        "reason": "Reason (shown to the tenant)",
        "disconnect": "Disconnect power",
        "restore": "Restore power",
        "confirm_relay": "I confirm this change to the tenant's power supply.",
        "reason_required": "A reason is required.",
        "confirm_required": "Tick the confirmation box to proceed.",
        "amount_invalid": "Enter an amount greater than zero.",
        "tenancy": "Tenancy",
        "tenant": "Tenant",
        "since": "Since",
        "no_tenancy": "No current tenancy.",
        "receipt": "Receipt",
        "receipt_no": "Receipt number",
        "credited_to": "Credited to",
        "added_by": "Added by",
        "balance_now": "Balance now",
        "back_to_unit": "Back to the unit",
        "back_home": "Back",
        "my_home": "My electricity",
        "remaining_credit": "Remaining credit",
        "days_left": "About {days} days left at your recent usage",
        "days_unknown": "Not enough usage yet to estimate how long it lasts.",
        "power_state": "Power",
        "why": "Why",
        "reason_credit_ok": "Credit available",
        "reason_emergency_credit": "Using emergency credit",
        "reason_friendly_hours": "Kept on during friendly hours",
        "reason_credit_exhausted": "Credit ran out",
        "reason_manual_off": "Switched off by the landlord",
        "reason_manual_on": "Switched on by the landlord",
        "reason_postpaid": "Postpaid",
        "reason_never_disconnect": "Never disconnected",
        "reason_vacant": "Vacant",
        "credits_added": "Credit added",
        "view_receipt": "Receipt",
        "not_found": "Not found",
        "not_found_text": "There is nothing here, or you have no access to it.",
        "forbidden": "Not allowed",
        "forbidden_text": "Your account may not open this page.",
        "bad_request": "Something in the form was not right",
        "session_expired": "Your form expired. Please try again.",
        "language": "Language",
        "skip": "Skip to content",
        "relay_done_off": "Power switched off. The meter confirms shortly.",
        "relay_done_on": "Power switched on. The meter confirms shortly.",
        "pending": "waiting for the meter",
        "too_many": "Too many requests",
    },
    "zh_TW": {
        "app_name": "Powerlet 電力管家",
        "staff_sign_in": "房東與管理人員登入",
        "tenant_sign_in": "房客登入",
        "email": "電子郵件",
        "password": "密碼",
        "sign_in": "登入",
        "sign_out": "登出",
        "support": "客服",
        "signin_failed": "電子郵件或密碼不正確。",
        "signin_throttled": "失敗次數過多，請在 {minutes} 分鐘後再試。",
        "wrong_screen_staff": "此帳號為房客帳號，請使用房客登入。",
        "wrong_screen_tenant": "此帳號為管理人員帳號，請使用房東與管理人員登入。",
        "no_access": "此帳號無法使用本入口網站。",
        "forgot_password": "忘記密碼？",
        "tenant_link": "您是房客嗎？請由此登入",
        "staff_link": "房東或管理人員？請由此登入",
        "new_password_title": "設定新密碼",
        "new_password_intro": "這是您第一次登入，請設定您自己的密碼。",
        "new_password": "新密碼",
        "password_rule": "至少 10 個字元，包含大寫、小寫字母及數字。",
        "password_rejected": "密碼不符合規則。",
        "save_password": "儲存密碼並登入",
        "reset_title": "重設密碼",
        "reset_intro": "請輸入電子郵件，若有帳號，我們會寄出重設碼。",
        "send_code": "寄送重設碼",
        "code_sent": "若此地址有帳號，重設碼已寄出。",
        "code": "重設碼",
        "reset_password": "設定新密碼",
        "reset_done": "密碼已變更，請以新密碼登入。",
        "code_rejected": "重設碼錯誤或已過期。",
        "dashboard": "總覽",
        "properties": "物業",
        "property": "物業",
        "all_properties": "所有物業",
        "units": "單位",
        "unit": "單位",
        "search": "搜尋單位",
        "filter": "篩選",
        "power_filter": "供電",
        "any": "全部",
        "next_page": "下一頁",
        "first_page": "第一頁",
        "balance": "餘額",
        "bill_status": "計費",
        "postpaid": "後付（每月帳單）",
        "prepaid": "預付",
        "vacant": "空置",
        "power": "供電",
        "power_on": "供電中",
        "power_off": "已斷電",
        "meter_online": "電表連線",
        "meter_offline": "電表離線",
        "gateway": "閘道器",
        "online": "連線",
        "offline": "離線",
        "open_alerts": "未處理警示",
        "no_alerts": "沒有未處理的警示。",
        "no_units": "沒有符合的單位。",
        "latest_reading": "最新讀數",
        "taken_at": "讀取於 {when}",
        "no_reading": "尚無讀數。",
        "consumption": "最近 {days} 天用電（每日度數）",
        "no_usage": "此期間尚無用電紀錄。",
        "ledger": "帳務明細",
        "when": "時間",
        "what": "項目",
        "amount": "金額",
        "note": "備註",
        "no_entries": "尚無紀錄。",
        "kind_top_up": "儲值",
        "kind_consumption_charge": "用電扣款",
        "kind_fixed_charge": "固定費用",
        "kind_emergency_credit": "緊急額度",
        "kind_adjustment": "調整",
        "kind_refund": "退款",
        "kind_transfer_out": "轉出",
        "kind_transfer_in": "轉入",
        "dispense_credit": "儲值",
        "amount_major": "金額（{currency}）",
        "add_credit": "確認儲值",
        "relay_control": "供電控制",
        "reason": "原因（房客可見）",
        "disconnect": "斷電",
        "restore": "恢復供電",
        "confirm_relay": "我確認要變更房客的供電狀態。",
        "reason_required": "請填寫原因。",
        "confirm_required": "請勾選確認方塊。",
        "amount_invalid": "請輸入大於零的金額。",
        "tenancy": "租約",
        "tenant": "房客",
        "since": "起始日",
        "no_tenancy": "目前沒有租約。",
        "receipt": "收據",
        "receipt_no": "收據編號",
        "credited_to": "儲值單位",
        "added_by": "經辦人",
        "balance_now": "目前餘額",
        "back_to_unit": "返回單位",
        "back_home": "返回",
        "my_home": "我的用電",
        "remaining_credit": "剩餘額度",
        "days_left": "依最近用量約可使用 {days} 天",
        "days_unknown": "用電資料不足，暫無法估計可用天數。",
        "power_state": "供電",
        "why": "原因",
        "reason_credit_ok": "額度充足",
        "reason_emergency_credit": "使用緊急額度中",
        "reason_friendly_hours": "友善時段維持供電",
        "reason_credit_exhausted": "額度已用完",
        "reason_manual_off": "房東已斷電",
        "reason_manual_on": "房東已恢復供電",
        "reason_postpaid": "後付",
        "reason_never_disconnect": "不斷電",
        "reason_vacant": "空置",
        "credits_added": "儲值紀錄",
        "view_receipt": "收據",
        "not_found": "找不到頁面",
        "not_found_text": "此處沒有內容，或您沒有權限查看。",
        "forbidden": "不允許",
        "forbidden_text": "您的帳號無法開啟此頁面。",
        "bad_request": "表單內容有誤",
        "session_expired": "表單已過期，請再試一次。",
        "language": "語言",
        "skip": "跳到主要內容",
        "relay_done_off": "已送出斷電指令，電表稍後確認。",
        "relay_done_on": "已送出恢復供電指令，電表稍後確認。",
        "pending": "等待電表確認",
        "too_many": "請求過多",
    },
}


def pick_language(cookie_value: str | None, accept_language: str | None) -> str:
    if cookie_value in LANGUAGES:
        return str(cookie_value)
    for part in (accept_language or "").split(",")[:10]:
        tag = part.split(";")[0].strip().lower().replace("-", "_")
        if tag in {"zh_tw", "zh_hant", "zh_hant_tw", "zh_hk", "zh"}:
            return "zh_TW"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE


class Translator:
    """``t(key, **values)`` for templates, plus the property-aware formatters."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._messages = MESSAGES[self.language]

    @property
    def html_lang(self) -> str:
        return "zh-Hant-TW" if self.language == "zh_TW" else "en"

    def t(self, key: str, **values: object) -> str:
        text = self._messages.get(key) or MESSAGES[DEFAULT_LANGUAGE].get(key) or key
        return text.format(**values) if values else text

    def money(self, amount_minor: int, currency: str) -> str:
        """Integer minor units shown in the currency's own precision (no float)."""
        digits = get_currency_precision(currency)
        major = Decimal(int(amount_minor)).scaleb(-digits)
        return format_currency(major, currency, locale=self.language, currency_digits=True)

    def kwh(self, energy_kwh: Decimal | str) -> str:
        return format_decimal(Decimal(str(energy_kwh)), format="#,##0.000", locale=self.language)

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.language)

    def datetime(self, at: dt.datetime, time_zone: str) -> str:
        return format_datetime(
            at, format="medium", tzinfo=ZoneInfo(time_zone), locale=self.language
        )

    def date(self, at: dt.datetime, time_zone: str) -> str:
        return format_date(
            at.astimezone(ZoneInfo(time_zone)), format="medium", locale=self.language
        )

    def short_day(self, at: dt.datetime) -> str:
        return format_date(
            at, format="d/M" if self.language == "en" else "M/d", locale=self.language
        )
