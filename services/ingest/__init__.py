"""The webhook gateway: vendor payloads (amoCRM/Kommo, Bitrix24, telephony) and canonical
events in, canonical events out to Kafka. Mapping modules are pure (payload dict -> models);
`app.py` holds all I/O: HTTP, secrets, Kafka, the optional Bitrix24 REST lookup."""
