"""The sentences of emails and customer pages, in German and English.

The invoice's own words (column heads, totals) live in labels.py; these are the sentences around them.
Templates stay language-neutral and read `texts.<name>`; fields in braces are filled with values already
formatted for the locale (money, dates) before the template sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_DE: dict[str, str] = {
    # greeting and signature, shared by every email
    "greeting": "Guten Tag {name},",
    "closing": "Mit freundlichen Grüßen",
    "questions": "Bei Fragen antworten Sie einfach auf diese E-Mail.",
    # the invoice email
    "invoice_subject": "Rechnung {number} von {seller}",
    "invoice_intro": "vielen Dank für Ihre Bestellung {order}. Anbei erhalten Sie unsere Rechnung {number} "
    "vom {issue_date} als PDF.",
    "invoice_intro_no_order": "anbei erhalten Sie unsere Rechnung {number} vom {issue_date} als PDF.",
    "invoice_amount": "Rechnungsbetrag",
    "invoice_due": "Zahlbar bis",
    "view_online": "Rechnung online ansehen",
    "pay_online": "Jetzt bezahlen",
    "bank_transfer": "Oder überweisen Sie den Betrag bis zum {due_date} mit dem Verwendungszweck {number}:",
    "bank_transfer_page": "Bitte überweisen Sie den Betrag bis zum {due_date} mit dem Verwendungszweck "
    "{number}:",
    "bank_transfer_now": "Oder überweisen Sie den Betrag mit dem Verwendungszweck {number}:",
    "account_holder": "Kontoinhaber",
    "attachment_note": "Die Rechnung ist als PDF angehängt. Bitte bewahren Sie sie für Ihre Unterlagen auf.",
    # the payment confirmation
    "paid_subject": "Zahlungsbestätigung für Rechnung {number}",
    "paid_intro": "vielen Dank für Ihre Zahlung. Die Rechnung {number} vom {issue_date} ist vollständig "
    "bezahlt.",
    "paid_amount": "Erhalten",
    "paid_nothing_due": "Es ist kein Betrag mehr offen. Sie müssen nichts weiter tun.",
    "paid_credit": "Sie haben {credit} mehr bezahlt als offen war. Diesen Betrag schreiben wir Ihrem "
    "Kundenkonto gut und verrechnen ihn mit Ihrer nächsten Rechnung; auf Wunsch erstatten wir ihn Ihnen.",
    "credit_kept": "Guthaben auf Ihrem Kundenkonto",
    # finance set the customer's credit against the invoice
    "credit_applied_subject": "Guthaben verrechnet: Rechnung {number}",
    "credit_applied_intro": "wir haben {amount} aus Ihrem Guthaben mit der Rechnung {number} vom "
    "{issue_date} verrechnet.",
    "credit_applied_paid": "Die Rechnung ist damit vollständig bezahlt.",
    "credit_applied_amount": "Aus Ihrem Guthaben verrechnet",
    # the receipt of a part payment
    "receipt_subject": "Teilzahlung erhalten: Rechnung {number}",
    "receipt_intro": "vielen Dank für Ihre Zahlung. Wir haben {amount} für die Rechnung {number} vom "
    "{issue_date} erhalten.",
    "receipt_intro_on": "vielen Dank für Ihre Zahlung. Am {received_on} haben wir {amount} für die Rechnung "
    "{number} vom {issue_date} erhalten.",
    "receipt_remaining": "Offen sind noch {remaining}. Bitte überweisen Sie den Restbetrag bis zum "
    "{due_date}.",
    "receipt_remaining_overdue": "Offen sind noch {remaining}; die Rechnung war am {due_date} fällig. Bitte "
    "überweisen Sie den Restbetrag bald.",
    "settled_fees": "davon für Mahngebühren",
    "settled_interest": "davon für Verzugszinsen",
    "settled_principal": "davon für den Rechnungsbetrag",
    # the credit note email
    # (a correcting credit note is a "Rechnungskorrektur": "Gutschrift" means self-billing, decisions/0029)
    "credit_note_subject": "Rechnungskorrektur {credit_note} zu Rechnung {number} von {seller}",
    "credit_note_intro": "anbei erhalten Sie unsere Rechnungskorrektur {credit_note} vom {issue_date} zur "
    "Rechnung {number}{invoice_dated} als PDF.",
    "invoice_dated": " vom {date}",
    "credit_note_reason": "Grund",
    "credit_note_date": "Datum der Rechnungskorrektur",
    "credit_note_credit": "Da die Rechnung bereits bezahlt war, schreiben wir {credit} Ihrem Kundenkonto gut "
    "und verrechnen den Betrag mit Ihrer nächsten Rechnung; auf Wunsch erstatten wir ihn Ihnen.",
    "still_due_on_invoice": "Noch offen auf Rechnung {number}",
    "credit_note_settled": "Die Rechnung {number} ist damit ausgeglichen. Sie müssen nichts weiter tun.",
    "credit_note_remaining": "Auf die Rechnung {number} sind noch {remaining} zu zahlen.",
    "credit_note_attachment": "Die Rechnungskorrektur ist als PDF angehängt. Bitte bewahren Sie sie für "
    "Ihre Unterlagen auf.",
    # the void's document
    "cancellation_subject": "Stornorechnung {credit_note} zu Rechnung {number} von {seller}",
    "cancellation_intro": "wir haben die Rechnung {number}{invoice_dated} storniert. Anbei erhalten Sie "
    "unsere Stornorechnung {credit_note} vom {issue_date} als PDF.",
    "cancellation_date": "Datum der Stornorechnung",
    "cancellation_settled": "Aus der Rechnung {number} ist nichts mehr zu zahlen.",
    "cancellation_attachment": "Die Stornorechnung ist als PDF angehängt. Bitte bewahren Sie sie für Ihre "
    "Unterlagen auf.",
    # reminders: one subject and opening per template of the dunning policy
    "courtesy_subject": "Freundliche Erinnerung: Rechnung {number} wird am {due_date} fällig",
    "courtesy_intro": "eine kurze Erinnerung: Unsere Rechnung {number} vom {issue_date} wird am {due_date} "
    "fällig. Falls Sie bereits bezahlt haben, betrachten Sie diese Nachricht bitte als gegenstandslos.",
    "reminder_subject": "Zahlungserinnerung: Rechnung {number}",
    "reminder_intro": "sicher ist es Ihrer Aufmerksamkeit entgangen: Unsere Rechnung {number} vom "
    "{issue_date} war am {due_date} fällig und ist noch nicht vollständig bezahlt.",
    "final_reminder_subject": "Letzte Mahnung: Rechnung {number}",
    "final_reminder_intro": "trotz unserer Erinnerungen ist die Rechnung {number} vom {issue_date} "
    "(fällig am {due_date}) noch offen. Bitte begleichen Sie den offenen Betrag innerhalb von 7 Tagen, "
    "damit wir die Forderung nicht weitergeben müssen.",
    "endless_reminder_subject": "Erneute Zahlungserinnerung: Rechnung {number}",
    "endless_reminder_intro": "die Rechnung {number} vom {issue_date} (fällig am {due_date}) ist weiterhin "
    "offen. Bitte begleichen Sie den offenen Betrag.",
    "instalment_reminder_subject": "Erinnerung: Rate {instalment} von {of} zu Rechnung {number}",
    "instalment_reminder_intro": "die Rate {instalment} von {of} Ihres Ratenplans zu Rechnung {number} über "
    "{instalment_amount} war am {instalment_due_date} fällig und ist noch nicht vollständig bezahlt. Wenn "
    "sie offen bleibt, endet der Ratenplan und wir übergeben die Forderung an ein Inkassounternehmen.",
    "instalment_notice_subject": "Rate {instalment} von {of} zu Rechnung {number} wird am "
    "{instalment_due_date} fällig",
    "instalment_notice_intro": "eine kurze Erinnerung: Die Rate {instalment} von {of} Ihres Ratenplans zu "
    "Rechnung {number} über {instalment_amount} wird am {instalment_due_date} fällig.",
    "plan_instalment_label": "Rate {instalment} von {of}",
    "plan_instalment_due": "Fällig am",
    "plan_instalment_open": "Von dieser Rate offen",
    "plan_paid_so_far": "Bisher auf den Ratenplan gezahlt",
    "late_fee": "Mahngebühr",
    "fees_total": "Mahngebühren gesamt",
    "total_due_with_fees": "Zu zahlen (inkl. Gebühren)",
    "download_invoice": "Rechnung (PDF)",
    "already_paid_note": "Falls Sie die Zahlung in den letzten Tagen veranlasst haben, danken wir Ihnen und "
    "bitten Sie, diese E-Mail zu ignorieren.",
    # the final notice with the payment plan offer
    "final_notice_subject": "Letzte Aufforderung und Angebot einer Ratenzahlung: Rechnung {number}",
    "final_notice_intro": "die Rechnung {number} vom {issue_date} ist seit dem {due_date} überfällig. Bevor "
    "wir die Forderung an ein Inkassounternehmen übergeben, bieten wir Ihnen eine Ratenzahlung an:",
    "plan_instalment": "Rate {number}: {amount}, fällig am {due_date}",
    "plan_accept": "Ratenzahlung annehmen",
    "plan_deadline": "Wenn Sie das Angebot nicht annehmen oder den Betrag nicht bezahlen, übergeben wir die "
    "Forderung an ein Inkassounternehmen.",
    "plan_page_title": "Ratenzahlung zu Rechnung {number}",
    "plan_accepted_title": "Ratenzahlung vereinbart",
    "plan_accepted": "Vielen Dank. Ihr Ratenplan für Rechnung {number} ist vereinbart; wir erinnern Sie vor "
    "jeder Rate.",
    "plan_closed": "Dieses Angebot ist nicht mehr offen. Bitte wenden Sie sich an uns.",
    # the hosted invoice page
    "page_title": "Rechnung {number} – {seller}",
    "status": "Status",
    "status_open": "Offen",
    "status_partially_paid": "Teilweise bezahlt",
    "status_paid": "Bezahlt",
    "status_void": "Storniert",
    "status_uncollectible": "Uneinbringlich",
    "status_overdue": "Überfällig",
    "flag_disputed": "Beanstandet – wir prüfen Ihren Einwand",
    "flag_in_collections": "An das Inkasso übergeben",
    "download_pdf": "Rechnung als PDF herunterladen",
    "account_heading": "Zahlungen und Korrekturen",
    "credit_notes_heading": "Rechnungskorrekturen und Stornorechnungen",
    "subscription_heading": "Ihr Abonnement",
    "subscription_period": "Leistungszeitraum",
    "subscription_items": "Leistungen",
    "subscription_next_invoice": "Nächste Rechnung",
    "subscription_ends": "Endet am",
    "refunds_heading": "Erstattungen",
    "column_number": "Nummer",
    "column_date": "Datum",
    "column_amount": "Betrag",
    "credit_note_pdf": "{title} {number} als PDF",
    "sum_total": "Rechnungsbetrag",
    "sum_paid": "Bezahlt",
    "sum_refunded": "Erstattet",
    "sum_credited": "Rechnungskorrekturen",
    "sum_cancelled": "Storniert",
    "sum_invoice_due": "Offener Rechnungsbetrag",
    "sum_fees": "Mahngebühren und Verzugszinsen",
    "sum_fees_paid": "Davon bezahlt",
    "sum_due": "Noch zu zahlen",
    "pay_heading": "Bezahlen",
    "pay_method_card": "Mit Karte bezahlen",
    "pay_method_sepa_debit": "Per SEPA-Lastschrift bezahlen",
    "pay_submit": "{amount} bezahlen",
    "pay_starting": "Einen Moment bitte …",
    "pay_processing": "Ihre Zahlung wird übermittelt …",
    "pay_succeeded": "Vielen Dank! Ihre Zahlung ist unterwegs; diese Seite zeigt sie, sobald sie "
    "eingegangen ist.",
    "pay_failed": "Ihre Zahlung ist fehlgeschlagen: {reason}",
    "pay_unavailable": "Die Online-Zahlung ist gerade nicht möglich. Bitte versuchen Sie es später noch "
    "einmal.",
    "nothing_due": "Für diese Rechnung ist nichts mehr zu bezahlen. Vielen Dank!",
    "bill_to": "Rechnungsempfänger",
    "from": "Rechnungssteller",
    "dispute_heading": "Stimmt etwas nicht?",
    "dispute_intro": "Wenn diese Rechnung nicht stimmt, teilen Sie uns bitte bis zum {last_day} mit, "
    "was nicht passt. Bis wir Ihren Einwand geklärt haben, erhalten Sie keine Zahlungserinnerungen.",
    "dispute_reason": "Was ist falsch an dieser Rechnung?",
    "dispute_submit": "Rechnung beanstanden",
    "dispute_open": "Sie haben diese Rechnung beanstandet. Wir melden uns, sobald wir Ihren Einwand geprüft "
    "haben.",
    "dispute_resolved": "Ihr Einwand wurde bearbeitet.",
    "dispute_received_title": "Einwand erhalten",
    "dispute_received": "Danke, wir haben Ihren Einwand zur Rechnung {number} erhalten. Unser Team meldet "
    "sich in Kürze bei Ihnen; bis dahin pausieren alle Zahlungserinnerungen.",
    # the answer to a dispute, once finance resolved it (dispute_answers.py, docs/decisions/0034)
    "dispute_upheld_subject": "Ihr Einwand zur Rechnung {number}: Wir geben Ihnen recht",
    "dispute_upheld_intro": "wir haben Ihren Einwand zur Rechnung {number} vom {issue_date} geprüft und "
    "geben Ihnen recht.",
    "dispute_upheld_credit_note": "Dafür haben wir die Rechnungskorrektur {credit_notes} ausgestellt; Sie "
    "erhalten sie mit einer eigenen E-Mail.",
    "dispute_upheld_credit_notes": "Dafür haben wir die Rechnungskorrekturen {credit_notes} ausgestellt; Sie "
    "erhalten sie mit eigenen E-Mails.",
    "dispute_still_due": "Auf der Rechnung sind noch {amount} offen.",
    "dispute_nothing_due": "Auf der Rechnung ist kein Betrag mehr offen. Sie müssen nichts weiter tun.",
    "dispute_note": "Anmerkung",
    "dispute_rejected_subject": "Ihr Einwand zur Rechnung {number}",
    "dispute_rejected_intro": "wir haben Ihren Einwand zur Rechnung {number} vom {issue_date} sorgfältig "
    "geprüft, können ihm aber leider nicht stattgeben.",
    "dispute_rejection_reason": "Begründung",
    "dispute_rejected_pay_by": "Bitte zahlen Sie den offenen Betrag von {amount} bis zum {pay_by}. Bis dahin "
    "erhalten Sie von uns keine Zahlungserinnerung.",
    "dispute_pay_by": "Neues Zahlungsziel",
    "back_to_invoice": "Zurück zur Rechnung",
    "not_found_title": "Link ungültig",
    "not_found": "Dieser Rechnungslink ist ungültig oder abgelaufen. Bitte nutzen Sie den Link aus Ihrer "
    "E-Mail oder wenden Sie sich an uns.",
    # the customer page (GET /c/{token}) and its link in every email
    "customer_page_title": "Ihr Kundenkonto bei {seller}",
    "customer_page_intro": "Guten Tag {name}, hier sehen Sie Ihre Rechnungen, Zahlungen, Korrekturen und "
    "Abonnements.",
    "customer_nothing_open": "Sie haben keine offenen Rechnungen. Vielen Dank!",
    "customer_invoices_heading": "Rechnungen",
    "customer_payments_heading": "Zahlungen und Erstattungen",
    "customer_subscriptions_heading": "Abonnements",
    "customer_latest_only": "Es werden die letzten {count} Rechnungen gezeigt.",
    "column_invoice": "Rechnung",
    "column_due_date": "Fällig am",
    "column_total": "Gesamt",
    "column_open": "Offen",
    "column_kind": "Art",
    "column_interval": "Abrechnung",
    "movement_payment": "Zahlung",
    "movement_refund": "Erstattung",
    "interval_month": "monatlich",
    "interval_year": "jährlich",
    "interval_months": "alle {count} Monate",
    "interval_years": "alle {count} Jahre",
    "subscription_status_active": "Aktiv",
    "subscription_status_paused": "Pausiert",
    "subscription_status_canceled": "Beendet",
    "account_link": "Alle Ihre Rechnungen, Zahlungen und Abonnements",
}

_EN: dict[str, str] = {
    "greeting": "Dear {name},",
    "closing": "Kind regards",
    "questions": "If you have any questions, simply reply to this email.",
    "invoice_subject": "Invoice {number} from {seller}",
    "invoice_intro": "thank you for your order {order}. Please find attached our invoice {number} dated "
    "{issue_date} as a PDF.",
    "invoice_intro_no_order": "please find attached our invoice {number} dated {issue_date} as a PDF.",
    "invoice_amount": "Invoice total",
    "invoice_due": "Due by",
    "view_online": "View the invoice online",
    "pay_online": "Pay now",
    "bank_transfer": "Or transfer the amount by {due_date}, quoting {number} as the reference:",
    "bank_transfer_page": "Please transfer the amount by {due_date}, quoting {number} as the reference:",
    "bank_transfer_now": "Or transfer the amount, quoting {number} as the reference:",
    "account_holder": "Account holder",
    "attachment_note": "The invoice is attached as a PDF. Please keep it for your records.",
    "paid_subject": "Payment received for invoice {number}",
    "paid_intro": "thank you for your payment. Invoice {number} dated {issue_date} is paid in full.",
    "paid_amount": "Received",
    "paid_nothing_due": "Nothing is left to pay; there is nothing else you need to do.",
    "paid_credit": "You paid {credit} more than was due. We keep this amount as a credit on your customer "
    "account and set it against your next invoice; if you prefer, we will refund it.",
    "credit_kept": "Credit on your customer account",
    "credit_applied_subject": "Credit applied: invoice {number}",
    "credit_applied_intro": "we have applied {amount} of your account credit to invoice {number} dated "
    "{issue_date}.",
    "credit_applied_paid": "The invoice is now paid in full.",
    "credit_applied_amount": "Applied from your credit",
    "receipt_subject": "Part payment received: invoice {number}",
    "receipt_intro": "thank you for your payment. We have received {amount} for invoice {number} dated "
    "{issue_date}.",
    "receipt_intro_on": "thank you for your payment. On {received_on} we received {amount} for invoice "
    "{number} dated {issue_date}.",
    "receipt_remaining": "{remaining} is still due. Please pay the rest by {due_date}.",
    "receipt_remaining_overdue": "{remaining} is still due; the invoice was due on {due_date}. Please pay "
    "the rest soon.",
    "settled_fees": "of which for late fees",
    "settled_interest": "of which for default interest",
    "settled_principal": "of which for the invoice amount",
    "credit_note_subject": "Credit note {credit_note} for invoice {number} from {seller}",
    "credit_note_intro": "please find attached our credit note {credit_note} dated {issue_date} for invoice "
    "{number}{invoice_dated} as a PDF.",
    "invoice_dated": " dated {date}",
    "credit_note_reason": "Reason",
    "credit_note_date": "Credit note date",
    "credit_note_credit": "As the invoice was already paid, we keep {credit} as a credit on your customer "
    "account and set it against your next invoice; if you prefer, we will refund it.",
    "still_due_on_invoice": "Still due on invoice {number}",
    "credit_note_settled": "Invoice {number} is now settled; there is nothing else you need to do.",
    "credit_note_remaining": "{remaining} is still due on invoice {number}.",
    "credit_note_attachment": "The credit note is attached as a PDF. Please keep it for your records.",
    "cancellation_subject": "Cancellation invoice {credit_note} for invoice {number} from {seller}",
    "cancellation_intro": "we have cancelled invoice {number}{invoice_dated}. Please find attached our "
    "cancellation invoice {credit_note} dated {issue_date} as a PDF.",
    "cancellation_date": "Cancellation date",
    "cancellation_settled": "Nothing is to be paid on invoice {number}.",
    "cancellation_attachment": "The cancellation invoice is attached as a PDF. Please keep it for your "
    "records.",
    "courtesy_subject": "Friendly reminder: invoice {number} is due on {due_date}",
    "courtesy_intro": "a short reminder: our invoice {number} dated {issue_date} is due on {due_date}. "
    "If you have already paid, please disregard this message.",
    "reminder_subject": "Payment reminder: invoice {number}",
    "reminder_intro": "perhaps it slipped your attention: our invoice {number} dated {issue_date} was due on "
    "{due_date} and has not been paid in full.",
    "final_reminder_subject": "Final reminder: invoice {number}",
    "final_reminder_intro": "despite our reminders, invoice {number} dated {issue_date} (due {due_date}) is "
    "still unpaid. Please pay the amount due within 7 days so that we do not have to pass the claim on.",
    "endless_reminder_subject": "Another payment reminder: invoice {number}",
    "endless_reminder_intro": "invoice {number} dated {issue_date} (due {due_date}) is still unpaid. Please "
    "pay the amount due.",
    "instalment_reminder_subject": "Reminder: instalment {instalment} of {of} for invoice {number}",
    "instalment_reminder_intro": "instalment {instalment} of {of} of your payment plan for invoice {number}, "
    "{instalment_amount}, was due on {instalment_due_date} and has not been paid in full. If it stays "
    "unpaid, the payment plan ends and we hand the claim to a collection agency.",
    "instalment_notice_subject": "Instalment {instalment} of {of} for invoice {number} is due on "
    "{instalment_due_date}",
    "instalment_notice_intro": "a short reminder: instalment {instalment} of {of} of your payment plan for "
    "invoice {number}, {instalment_amount}, is due on {instalment_due_date}.",
    "plan_instalment_label": "Instalment {instalment} of {of}",
    "plan_instalment_due": "Due",
    "plan_instalment_open": "Still open of this instalment",
    "plan_paid_so_far": "Paid on the plan so far",
    "late_fee": "Late fee",
    "fees_total": "Late fees in total",
    "total_due_with_fees": "To pay (incl. fees)",
    "download_invoice": "Invoice (PDF)",
    "already_paid_note": "If you have sent the payment in the last few days, thank you, and please ignore "
    "this email.",
    "final_notice_subject": "Final notice and a payment plan offer: invoice {number}",
    "final_notice_intro": "invoice {number} dated {issue_date} has been overdue since {due_date}. Before we "
    "hand the claim to a collection agency, we offer you a payment plan:",
    "plan_instalment": "Instalment {number}: {amount}, due {due_date}",
    "plan_accept": "Accept the payment plan",
    "plan_deadline": "If you neither accept the offer nor pay the amount, we will hand the claim to a "
    "collection agency.",
    "plan_page_title": "Payment plan for invoice {number}",
    "plan_accepted_title": "Payment plan agreed",
    "plan_accepted": "Thank you. Your payment plan for invoice {number} is agreed; we will remind you before "
    "each instalment.",
    "plan_closed": "This offer is no longer open. Please contact us.",
    "page_title": "Invoice {number} – {seller}",
    "status": "Status",
    "status_open": "Open",
    "status_partially_paid": "Partially paid",
    "status_paid": "Paid",
    "status_void": "Void",
    "status_uncollectible": "Uncollectible",
    "status_overdue": "Overdue",
    "flag_disputed": "Disputed – we are looking into it",
    "flag_in_collections": "Handed over to collections",
    "download_pdf": "Download the invoice (PDF)",
    "account_heading": "Payments and credit notes",
    "credit_notes_heading": "Credit notes",
    "subscription_heading": "Your subscription",
    "subscription_period": "Service period",
    "subscription_items": "Items",
    "subscription_next_invoice": "Next invoice",
    "subscription_ends": "Ends on",
    "refunds_heading": "Refunds",
    "column_number": "Number",
    "column_date": "Date",
    "column_amount": "Amount",
    "credit_note_pdf": "{title} {number} (PDF)",
    "sum_total": "Invoice total",
    "sum_paid": "Paid",
    "sum_refunded": "Refunded",
    "sum_credited": "Credit notes",
    "sum_cancelled": "Cancelled",
    "sum_invoice_due": "Invoice amount still due",
    "sum_fees": "Late fees and default interest",
    "sum_fees_paid": "Of these, paid",
    "sum_due": "Still to pay",
    "pay_heading": "Pay",
    "pay_method_card": "Pay by card",
    "pay_method_sepa_debit": "Pay by SEPA Direct Debit",
    "pay_submit": "Pay {amount}",
    "pay_starting": "One moment, please …",
    "pay_processing": "Sending your payment …",
    "pay_succeeded": "Thank you! Your payment is on its way; this page shows it as soon as it has arrived.",
    "pay_failed": "Your payment failed: {reason}",
    "pay_unavailable": "Paying online is not possible right now. Please try again later.",
    "nothing_due": "Nothing is left to pay on this invoice. Thank you!",
    "bill_to": "Bill to",
    "from": "From",
    "dispute_heading": "Something wrong?",
    "dispute_intro": "If this invoice is not right, tell us what is wrong by {last_day}. Until we have "
    "resolved it, you will not receive payment reminders.",
    "dispute_reason": "What is wrong with this invoice?",
    "dispute_submit": "Dispute this invoice",
    "dispute_open": "You disputed this invoice. We will get back to you once we have looked into it.",
    "dispute_resolved": "Your dispute has been dealt with.",
    "dispute_received_title": "Dispute received",
    "dispute_received": "Thank you, we have received your dispute of invoice {number}. Our team will get "
    "back to you shortly; until then all payment reminders are paused.",
    # the answer to a dispute, once finance resolved it (dispute_answers.py, docs/decisions/0034)
    "dispute_upheld_subject": "Your dispute of invoice {number}: you are right",
    "dispute_upheld_intro": "we have looked into your dispute of invoice {number} dated {issue_date} and "
    "agree with you.",
    "dispute_upheld_credit_note": "We have issued credit note {credit_notes} for it; you receive it in a "
    "separate email.",
    "dispute_upheld_credit_notes": "We have issued credit notes {credit_notes} for it; you receive them in "
    "separate emails.",
    "dispute_still_due": "{amount} is still due on the invoice.",
    "dispute_nothing_due": "Nothing is due on the invoice any more. There is nothing else you need to do.",
    "dispute_note": "Note",
    "dispute_rejected_subject": "Your dispute of invoice {number}",
    "dispute_rejected_intro": "we have carefully looked into your dispute of invoice {number} dated "
    "{issue_date}, but unfortunately we cannot accept it.",
    "dispute_rejection_reason": "Reason",
    "dispute_rejected_pay_by": "Please pay the amount due of {amount} by {pay_by}. You will receive no "
    "payment reminder from us before then.",
    "dispute_pay_by": "New due date",
    "back_to_invoice": "Back to the invoice",
    "not_found_title": "Link not valid",
    "not_found": "This invoice link is not valid or has expired. Please use the link in your email or "
    "contact us.",
    # the customer page (GET /c/{token}) and its link in every email
    "customer_page_title": "Your account with {seller}",
    "customer_page_intro": "Hello {name}, here are your invoices, payments, corrections and subscriptions.",
    "customer_nothing_open": "You have no open invoices. Thank you!",
    "customer_invoices_heading": "Invoices",
    "customer_payments_heading": "Payments and refunds",
    "customer_subscriptions_heading": "Subscriptions",
    "customer_latest_only": "The latest {count} invoices are shown.",
    "column_invoice": "Invoice",
    "column_due_date": "Due",
    "column_total": "Total",
    "column_open": "Open",
    "column_kind": "Kind",
    "column_interval": "Billing",
    "movement_payment": "Payment",
    "movement_refund": "Refund",
    "interval_month": "monthly",
    "interval_year": "yearly",
    "interval_months": "every {count} months",
    "interval_years": "every {count} years",
    "subscription_status_active": "Active",
    "subscription_status_paused": "Paused",
    "subscription_status_canceled": "Ended",
    "account_link": "All your invoices, payments and subscriptions",
}

MESSAGES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"de": MappingProxyType(_DE), "en": MappingProxyType(_EN)}
)


def messages_for(locale: str) -> Mapping[str, str]:
    return MESSAGES.get(locale, MESSAGES["en"])
