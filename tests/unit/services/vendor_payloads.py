"""Vendor payloads as the vendors send them (form-encoded, their field names)."""

from __future__ import annotations

from urllib.parse import urlencode


def amo_lead(lead_id="31926520", status_id="143", *, pipeline_id="2116", price="45000",
             responsible_user_id="938348", last_modified="1763452800", **extra) -> dict:
    fields = {"id": lead_id, "name": "Заявка с сайта: курс Python", "status_id": status_id,
              "old_status_id": "10216995", "price": price, "responsible_user_id": responsible_user_id,
              "last_modified": last_modified, "modified_user_id": "102525", "created_user_id": "102525",
              "date_create": "1763366400", "pipeline_id": pipeline_id, "account_id": "10216991"}
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


def amo_form(*sections: tuple[str, list[dict]], subdomain="leakwatchdemo") -> bytes:
    """amoCRM's own encoding: leads[status][0][id]=...&account[subdomain]=..."""
    pairs = []
    for action, leads in sections:
        for i, lead in enumerate(leads):
            for field, value in lead.items():
                pairs.append((f"leads[{action}][{i}][{field}]", value))
            pairs += [(f"leads[{action}][{i}][custom_fields][0][id]", "1119321"),
                      (f"leads[{action}][{i}][custom_fields][0][name]", "Источник"),
                      (f"leads[{action}][{i}][custom_fields][0][values][0][value]", "Сайт")]
    pairs += [("account[subdomain]", subdomain), ("account[id]", "10216991")]
    return urlencode(pairs).encode()


def bitrix_form(event="ONCRMDEALUPDATE", deal_id="759", fields: dict | None = None,
                application_token="b24-app-token") -> bytes:
    pairs = [("event", event), ("event_handler_id", "201"), ("data[FIELDS][ID]", deal_id),
             ("ts", "1763452800")]
    for name, value in (fields or {}).items():
        pairs.append((f"data[FIELDS][{name}]", value))
    pairs += [("auth[domain]", "leakwatch.bitrix24.ru"), ("auth[client_endpoint]", "https://leakwatch.bitrix24.ru/rest/"),
              ("auth[server_endpoint]", "https://oauth.bitrix.info/rest/"), ("auth[member_id]", "a223c6b3710f85df22e9377d6c4f7553"),
              ("auth[application_token]", application_token)]
    return urlencode(pairs).encode()


def bitrix_deal(stage="C1:LOSE", **extra) -> dict:
    """crm.deal.get's `result` for a deal (strings, as Bitrix24 returns them)."""
    deal = {"ID": "759", "TITLE": "Курс Python для команды", "STAGE_ID": stage, "CATEGORY_ID": "1",
            "STAGE_SEMANTIC_ID": "F" if stage.endswith("LOSE") else "P", "OPPORTUNITY": "120000.00",
            "CURRENCY_ID": "RUB", "ASSIGNED_BY_ID": "17", "SOURCE_ID": "WEB", "CLOSED": "N",
            "DATE_CREATE": "2025-11-17T10:00:00+03:00", "DATE_MODIFY": "2025-11-18T12:30:00+03:00",
            "MOVED_TIME": "2025-11-18T12:30:00+03:00", "MOVED_BY_ID": "17"}
    deal.update(extra)
    return deal
