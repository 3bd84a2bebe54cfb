"""`leakwatch import`: history from the CRM's REST API (amoCRM/Kommo, Bitrix24) or from an
export file, as canonical events with their original times, so a new installation shows
last month's leaks. Fetch pages (rate-limited, checkpointed), then produce in time order."""
