"""Bounce rules by meaning: each wording rule proven on a synthetic server reply (written
for the test, not copied from the corpus), and the SMTP-time path (a refusal while we
send) deciding every one of them the same way as a bounce report does."""

import pytest

from nurture.sending.bounces.rules import (
    RETRY,
    SENDER_ISSUE,
    SUPPRESS,
    classify,
    classify_smtp_reply,
    is_delay_notice,
)

# (reply code, server reply, reason, decision). The status code, when the reply has one,
# is the one in the text, exactly as the SMTP-time path reads it.
WORDINGS = [
    # Mailbox does not exist, in the wordings servers use (several languages).
    ("550", "550 5.1.1 <a@b.example>: Recipient address rejected: User unknown in local "
     "recipient table", "userunknown", SUPPRESS),
    ("550", "550 Invalid recipient <a@b.example>", "userunknown", SUPPRESS),
    ("550", "550 Invalid final delivery userid", "userunknown", SUPPRESS),
    ("554", "554 delivery error: dd This user doesn't have a b.example account",
     "userunknown", SUPPRESS),
    ("550", "550 Requested action not taken: mailbox unavailable", "userunknown", SUPPRESS),
    ("550", "550 no such user here", "userunknown", SUPPRESS),
    ("550", "550 The recipient name is not recognized", "userunknown", SUPPRESS),
    ("550", "550 'a@b.example' is not a registered gateway user", "userunknown", SUPPRESS),
    ("550", "550 a@b.example: not listed in Domino Directory", "userunknown", SUPPRESS),
    ("550", "550 5.4.1 <a@b.example>: Access denied", "userunknown", SUPPRESS),
    ("550", "550 5.4.1 Recipient address rejected: Access denied", "userunknown", SUPPRESS),
    ("550", "550 5.5.0 Adresse destinataire invalide", "userunknown", SUPPRESS),
    ("550", "550 Utilisateur inconnu", "userunknown", SUPPRESS),
    ("550", "550 Boîte aux lettres introuvable", "userunknown", SUPPRESS),
    ("550", "550 Mailbox nicht gefunden", "userunknown", SUPPRESS),
    ("550", "550 La cuenta no existe", "userunknown", SUPPRESS),
    ("550", "550 Esta conta não existe", "userunknown", SUPPRESS),
    ("550", "550 Indirizzo inesistente", "userunknown", SUPPRESS),
    ("550", "550 宛先不明のため配信できませんでした", "userunknown", SUPPRESS),
    ("550", "550 存在しないユーザです", "userunknown", SUPPRESS),
    ("550", "550 Empfänger unbekannt", "userunknown", SUPPRESS),
    ("550", "550 Benutzer existiert nicht", "userunknown", SUPPRESS),
    ("550", "550 Usuario desconocido", "userunknown", SUPPRESS),
    ("550", "550 Destinatário inválido", "userunknown", SUPPRESS),
    ("550", "550 Utente sconosciuto", "userunknown", SUPPRESS),
    ("550", "550 宛先のアカウントは存在しません", "userunknown", SUPPRESS),
    ("550", "550 ユーザ Neko は Domino ディレクトリには見つかりません", "userunknown",
     SUPPRESS),
    # The domain is gone.
    ("553", "553 mail.b.example does not exist", "hostunknown", SUPPRESS),
    ("554", "554 the domain is not reachable. Please check the domain", "hostunknown",
     SUPPRESS),
    ("550", "550 Sorry, I couldn't find a mail exchanger or IP address", "hostunknown",
     SUPPRESS),
    ("521", "521 5.3.2 System not accepting network messages", "notaccept", SUPPRESS),
    # A DNS failure is not proof the domain is gone.
    ("550", "550 5.4.312 Message expired, DNS query failed", "networkerror", RETRY),
    ("550", "550 5.4.4 Name service error for name=b.example type=MX: Malformed or "
     "unexpected name server reply", "networkerror", RETRY),
    # Recipient-side, temporary or not about the address: retried.
    ("550", "550 5.2.2 <a@b.example>: Recipient address rejected: Mailbox full",
     "mailboxfull", RETRY),
    ("550", "550 User mailbox exceeds allowed size", "mailboxfull", RETRY),
    ("554", "554 5.3.0 <a@b.example>: Recipient address rejected: Mailer error",
     "mailererror", RETRY),
    ("550", "550 5.7.1 <a@b.example>: Recipient address rejected: User a@b.example "
     "temporary locked", "suspend", RETRY),
    ("452", "452 4.4.5 Insufficient disk space; try again later", "systemfull", RETRY),
    ("554", "554 5.4.6 Too many hops", "networkerror", RETRY),
    ("500", "500 Remote server does not support TLS", "systemerror", RETRY),
    ("554", "554 Transaction failed", "systemerror", RETRY),
    ("451", "451 4.3.0 Error: queue file write error", "systemerror", RETRY),
    ("421", "421 Host not reachable", "networkerror", RETRY),
    # The receiver refused *us*.
    ("550", "550 5.7.0 <a@b.example>: Recipient address rejected: Policy violation",
     "policyviolation", SENDER_ISSUE),
    ("421", "421 Service refusé. Veuillez essayer plus tard. Service refused, please "
     "try later", "blocked", SENDER_ISSUE),
    ("554", "554 mx.b.example ESMTP not accepting connections", "blocked", SENDER_ISSUE),
    ("550", "550 domain mismatches client ip", "blocked", SENDER_ISSUE),
    ("450", "450 service permits 2 unverifyable sending IPs", "requireptr", SENDER_ISSUE),
    ("421", "421 4.7.0 Messages from 192.0.2.1 temporarily deferred due to unexpected "
     "volume or user complaints", "badreputation", SENDER_ISSUE),
    ("550", "550 5.2.1 The user you are trying to contact is receiving mail at a rate "
     "that prevents additional messages from being delivered", "speeding", SENDER_ISSUE),
    ("452", "452 4.3.2 Connection rate limit exceeded", "speeding", SENDER_ISSUE),
    ("450", "450 4.2.1 The user you are trying to contact is receiving mail too quickly",
     "speeding", SENDER_ISSUE),
    ("550", "550 5.1.0 <me@brightpath.example>: Sender address rejected: Domain not found",
     "rejected", SENDER_ISSUE),
    ("553", "553 Sender address rejected: User unknown in local recipient table", "rejected",
     SENDER_ISSUE),
    ("550", "550 Insecure Mail Relay", "norelaying", SENDER_ISSUE),
    ("550", "550 5.2.0 Mail rejete. Mail rejected.", "spamdetected", SENDER_ISSUE),
    ("500", "500 Line limit exceeded", "mesgtoobig", SENDER_ISSUE),
    ("504", "504 Command parameter not implemented", "syntaxerror", SENDER_ISSUE),
    ("550", "550 malformed address: <a@b.example> may not follow c@d.example",
     "syntaxerror", SENDER_ISSUE),
    # A group or list that only members may post to refused us (several languages).
    ("550", "550 You are not a member of this mailing list", "rejected", SENDER_ISSUE),
    ("550", "550 the group may not exist, or you may not have permission to post messages "
     "to the group", "rejected", SENDER_ISSUE),
    ("550", "550 quizás no exista o bien no tienes los permisos necesarios para publicar "
     "mensajes", "rejected", SENDER_ISSUE),
    ("550", "550 n'existe pas ou que vous ne soyez pas autorisé à lui envoyer des messages",
     "rejected", SENDER_ISSUE),
    ("550", "550 グループにメッセージを投稿する権限がない可能性があります", "rejected",
     SENDER_ISSUE),
    ("550", "550 您沒有在此群組張貼留言的權限", "rejected", SENDER_ISSUE),
]  # fmt: skip


def _status_in(reply: str) -> str:
    for token in reply.replace(",", " ").split():
        parts = token.split(".")
        if len(parts) == 3 and all(p.isdigit() for p in parts) and token[0] in "245":
            return token
    return ""


@pytest.mark.parametrize(("code", "reply", "reason", "decision"), WORDINGS)
def test_a_bounce_report_reads_each_wording_by_its_meaning(code, reply, reason, decision):
    verdict = classify(_status_in(reply), code, reply)
    assert (verdict.reason, verdict.decision) == (reason, decision)


@pytest.mark.parametrize(("code", "reply", "reason", "decision"), WORDINGS)
def test_a_refusal_while_sending_decides_each_wording_the_same_way(code, reply, reason, decision):
    # The SMTP transport words its exception "RCPT TO refused: <server reply>".
    verdict = classify_smtp_reply(int(code), f"RCPT TO refused: {reply}", "RCPT")
    report = classify(_status_in(reply), code, reply, command="RCPT")
    assert (verdict.reason, verdict.decision) == (report.reason, report.decision)
    assert verdict.decision == decision


def test_a_temporary_reply_at_send_time_is_never_suppressed():
    # A mailbox-does-not-exist wording under a 4xx: the server may know better tomorrow.
    verdict = classify_smtp_reply(450, "450 4.1.1 <a@b.example>: User unknown", "RCPT")
    assert verdict.decision == RETRY


def test_user_unknown_under_a_policy_code_is_a_filter_not_a_dead_mailbox():
    # RFC 3463 X.7.x is a security or policy refusal: the wording alone does not prove
    # the mailbox is gone.
    verdict = classify("5.7.1", "550", "550 5.7.1 550 User Unknown: a@b.example")
    assert (verdict.reason, verdict.decision) == ("filtered", RETRY)


def test_a_5_1_1_settles_a_dead_mailbox_against_looser_recipient_side_text():
    verdict = classify("5.1.1", "550", "550 5.1.1 mailbox full or unavailable")
    assert (verdict.reason, verdict.decision) == ("userunknown", SUPPRESS)
    # ...but a text that names a refusal of the sender still wins.
    verdict = classify("5.1.1", "550", "550 5.1.1 sending rate limit exceeded")
    assert verdict.decision == SENDER_ISSUE


def test_a_refused_mail_from_naming_a_missing_domain_is_about_our_sender_domain():
    verdict = classify("5.1.0", "553", "553 5.1.0 sender.example does not exist", "MAIL")
    assert (verdict.reason, verdict.decision) == ("rejected", SENDER_ISSUE)


@pytest.mark.parametrize(
    "text",
    [
        "**      THIS IS A WARNING MESSAGE ONLY      **\n"
        "**  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n550 5.1.1 User unknown",
        "A message that you sent has not yet been delivered to one or more of its "
        "recipients. 550 no such user",
        "Please note that this is only a temporary failure report. 550 5.1.1 unknown user",
        "Delivery has been delayed to these recipients: 550 Invalid recipient",
    ],
)
def test_a_delay_notice_never_suppresses_whatever_code_it_quotes(text):
    assert is_delay_notice(text)
    assert classify("5.1.1", "550", text).decision == RETRY


def test_delayed_reports_are_told_apart_from_final_ones():
    assert not is_delay_notice("This is a permanent error; I've given up. 550 no such user")
    assert classify("", "550", "550 no such user", delayed=True).decision == RETRY
    assert classify("", "550", "550 no such user").decision == SUPPRESS
