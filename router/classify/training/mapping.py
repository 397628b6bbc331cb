"""How the public data sets' intents map onto our labels; `None` drops an intent too ambiguous to map."""

# banking77: a query reporting that something went wrong (money missing, a charge the
# customer did not expect, a card or transfer that failed) is a complaint; a how-to or
# a price question is `other`. Pending or unrecognised transactions read half as
# questions, half as complaints, so they are left out rather than taught either way.
BANKING77_COMPLAINT = (
    "Refund_not_showing_up",
    "balance_not_updated_after_bank_transfer",
    "balance_not_updated_after_cheque_or_cash_deposit",
    "card_arrival",
    "card_not_working",
    "card_payment_fee_charged",
    "card_payment_wrong_exchange_rate",
    "card_swallowed",
    "cash_withdrawal_charge",
    "contactless_not_working",
    "declined_card_payment",
    "declined_cash_withdrawal",
    "declined_transfer",
    "extra_charge_on_statement",
    "failed_transfer",
    "pin_blocked",
    "reverted_card_payment?",
    "top_up_failed",
    "top_up_reverted",
    "transaction_charged_twice",
    "transfer_fee_charged",
    "transfer_not_received_by_recipient",
    "unable_to_verify_identity",
    "virtual_card_not_working",
    "wrong_amount_of_cash_received",
    "wrong_exchange_rate_for_cash_withdrawal",
)
BANKING77_DROPPED = (
    "beneficiary_not_allowed",
    "cancel_transfer",
    "card_delivery_estimate",
    "card_payment_not_recognised",
    "cash_withdrawal_not_recognised",
    "compromised_card",
    "direct_debit_payment_not_recognised",
    "pending_card_payment",
    "pending_cash_withdrawal",
    "pending_top_up",
    "pending_transfer",
    "why_verify_identity",
)
# Every other banking77 intent (questions about fees, limits, cards, top-ups...) is `other`.
BANKING77: dict[str, str | None] = {
    **{intent: "complaint" for intent in BANKING77_COMPLAINT},
    **{intent: None for intent in BANKING77_DROPPED},
}

# clinc150: booking and reservation requests are what a sales team wants to see; a lost
# bag, a declined or blocked card are complaints; everything else, `oos` included, is `other`.
CLINC150: dict[str, str | None] = {
    "book_flight": "sales_lead",
    "book_hotel": "sales_lead",
    "car_rental": "sales_lead",
    "restaurant_reservation": "sales_lead",
    "accept_reservations": "sales_lead",
    "lost_luggage": "complaint",
    "card_declined": "complaint",
    "account_blocked": "complaint",
    "damaged_card": None,
    "report_fraud": None,
}

# Purchase-intent tweets: `yes`/`pi` -> sales_lead; `no` and `undefined` dropped. `no` only
# means "no purchase intent": many of those tweets criticise the phone, so as `other` they
# taught the model that a complaint about a product is not a complaint.
PURCHASE_INTENT: dict[str, str | None] = {"yes": "sales_lead", "pi": "sales_lead", "no": None, "undefined": None}
