"""amoCRM's API v4 (`LEAKWATCH_INGEST_AMOCRM_API_URL`, a long-lived token in
`LEAKWATCH_INGEST_AMOCRM_API_TOKEN`): the lost lead's loss reason, which no webhook carries."""

from __future__ import annotations

from services.ingest.vendor_rest import LookupFailed, RestClient


class AmoCrmRest:
    def __init__(self, rest: RestClient):
        self._rest = rest

    async def loss_reason(self, lead_id: str) -> str | None:
        """The loss reason's name, as the account calls it; None when the manager chose none."""
        what = f"GET /api/v4/leads/{lead_id}?with=loss_reason"
        lead = await self._rest.get_json(f"api/v4/leads/{lead_id}", {"with": "loss_reason"}, what)
        if lead is None:
            raise LookupFailed(f"{what}: the lead does not exist (204)")
        reasons = (lead.get("_embedded") or {}).get("loss_reason") or []
        if reasons and isinstance(reasons[0], dict) and reasons[0].get("name"):
            return str(reasons[0]["name"])
        return None

    async def close(self) -> None:
        await self._rest.close()
