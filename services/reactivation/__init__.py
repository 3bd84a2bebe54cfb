"""The «Воронка отказов» service: refusals.classified -> refusals.reactivation, with an
optional recontact task in amoCRM or Bitrix24 and a CSV export of the list."""
