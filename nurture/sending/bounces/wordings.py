"""The phrases mail servers use for each reason a delivery fails (pure data, in sisimai's
reason vocabulary), read by ``rules.reason_from_text``.

Each entry is a meaning, written as the wordings MTAs and providers use for it, in the
languages real bounces show (English, French, German, Spanish, Portuguese, Italian,
Japanese, and for mailing-list refusals Chinese and Hindi), never a phrase copied for one
particular message. Every entry has a unit test with a synthetic reply
(tests/unit/sending/test_bounce_wordings.py).
"""

from __future__ import annotations

import re

# Phrases MTAs use, per reason, checked in this order (the first match wins): the more
# specific a condition, the earlier it is tried, so "user unknown (blocked by …)" does not
# read as a block, and "spam" in a block notice does not hide the block.
TEXT_RULES: list[tuple[str, str]] = [
    (
        # A group or mailing list that only members may post to refused *us*; its own
        # wording ("the group may not exist, or you may not have permission") must not
        # read as a missing mailbox. English, Spanish, French, German, Portuguese,
        # Italian, Japanese, Chinese, Hindi.
        "rejected",
        r"not (a )?member of (this|the) (mailing )?list|(permission|permissions) to post|"
        r"not have permission to (post|send)|permisos necesarios para publicar|"
        r"pas autoris[ée]e? à lui envoyer|keine berechtigung|nicht berechtigt.{0,30}"
        r"(posten|senden)|permiss[ãa]o para postar|autorizzazione a pubblicare|"
        r"投稿する権限|張貼留言的權限|发帖的权限|पोस्ट करने की (अनुमति|अनुमतियां)",
    ),
    (
        # Postfix's sender restrictions: whatever follows ("Domain not found", "User
        # unknown") is about our envelope sender, never the recipient.
        "rejected",
        r"\bsender address rejected\b",
    ),
    (
        # The receiver cannot speak TLS: its own configuration problem, not ours.
        "systemerror",
        r"does not support (the )?(start)?tls|(start)?tls (is )?not (supported|available)",
    ),
    (
        "requireptr",
        r"reverse (dns|lookup|hostname)|\bptr\b|\brdns\b|(cannot|can't|could not|unable to) "
        r"(find|resolve) your (ip|hostname|host name)|hostname .{0,30}not (resolve|match)"
        r"|not have a (valid )?(rdns|reverse)|ip name lookup failed|no (host ?name|dns "
        r"name) for your|unverif[iy]able (sending )?ips?\b",
    ),
    (
        "authfailure",
        r"\bspf\b|\bdkim\b|\bdmarc\b|sender policy framework|not authenticated|"
        r"authentication (check )?fail|unauthenticated",
    ),
    (
        "hasmoved",
        r"has moved|no longer (at|with|available at)|address has changed|mailbox has moved",
    ),
    (
        "mailboxfull",
        r"mailbox (is )?full|over ?quota|quota (exceed|exhaust|full)|exceed\w* .{0,20}quota|"
        r"(mailbox|inbox|account|storage|mail ?box) .{0,30}(full|exceeded)|not enough (space|"
        r"storage)|insufficient (disk )?(space|storage) .{0,20}(mailbox|user)|full mailbox|"
        r"mailbox size limit|disk quota|mailbox exceeds",
    ),
    (
        "mesgtoobig",
        r"(message|mail|size|body) .{0,20}(too (big|large)|exceeds)|exceeds .{0,30}"
        r"(size|message length)|size limit|message length exceeds|too big for|line limit exceeded|"
        r"line too long",
    ),
    (
        "norelaying",
        r"insecure (mail )?relay|relay(ing)? (access )?(denied|not permitted|prohibited|"
        r"not allowed)|not (permitted|allowed) to relay|unable to relay|we do not relay|"
        r"relay not|no relay",
    ),
    (
        "virusdetected",
        r"virus|malware|infected|trojan",
    ),
    (
        "spamdetected",
        r"\bspam\b|junk mail|unsolicited|bulk mail|spam content|looks like spam|"
        r"content.{0,20}(rejected|refused) as spam|classified as spam|message .{0,20}"
        r"spam",
    ),
    (
        "suspend",
        r"(account|mailbox|user|address) .{0,40}(disabled|suspended|inactive|deactivated|"
        r"locked|expired|frozen|not active)|(disabled|suspended|inactive|deactivated) "
        r"(account|mailbox|user)",
    ),
    (
        "userunknown",
        r"user ?unknown|unknown (user|recipient|local[- ]part|mailbox|address|alias)|no such "
        r"(user|person|mailbox|recipient|account|local user|address)|(user|mailbox|"
        r"recipient|address|account|addressee|alias) .{0,40}(does ?n[o']t exist|not exist|"
        r"not found|is unknown|unknown|invalid|not valid|unavailable|not available|"
        r"doesn't have|rejected|not listed)|(invalid|bad|unknown|nonexistent|non-existent) "
        r"(recipient|mailbox|address|user|destination|final delivery userid)|recipient "
        r".{0,20}(not (found|known|valid|exist|recogni[sz]ed|registered)|unknown)|"
        r"(recipient|user|mailbox) name is not recogni[sz]ed|not (listed|found) in .{0,20}"
        r"directory|not a registered .{0,20}user|recipient address rejected: access denied|"
        # Exchange Online names the recipient it does not know: "<a@b>: Access denied".
        r"@[\w.-]+>?: access denied|"
        # French, German, Spanish, Portuguese, Italian, Japanese wordings.
        r"(destinataire|utilisateur|adresse|bo[iî]te aux lettres) .{0,20}(inconnue?|"
        r"invalide|inexistante?|introuvable|n'existe pas)|"
        r"(empf[äa]nger|benutzer|adresse|postfach|mailbox) .{0,30}(unbekannt|ung[üu]ltig|"
        r"existiert nicht|nicht gefunden|nicht vorhanden)|(usuario|destinatario|buz[óo]n|"
        r"cuenta) .{0,20}(desconocido|no existe|no v[áa]lido|inexistente)|(usu[áa]rio|"
        r"destinat[áa]rio|caixa postal|conta) .{0,20}(desconhecido|inv[áa]lido|n[ãa]o existe|"
        r"inexistente)|(utente|destinatario|casella|indirizzo) .{0,20}(sconosciut[oa]|"
        r"inesistente|non esiste|non valid[oa])|"
        r"(ディレクトリ|宛先|アカウント|ユーザ).{0,30}(見つかりません|にありません|存在しません)|"
        r"宛先不明|存在しない(ユーザ|アドレス|宛先|アカウント)|"
        r"no (mailbox|account) (here|by that name|for)|unrouteable address|"
        r"doesn't have a .{0,40}account|not a (valid|known) (user|mailbox|recipient)|"
        r"mailbox unavailable|address (lookup )?fail|not our customer|"
        r"unknown or illegal alias|no valid recipients|invalid address|addressee unknown|"
        r"user not found",
    ),
    (
        # A DNS failure (a server that did not answer, a malformed reply) is not proof
        # the domain does not exist (that is NXDOMAIN, below): a network error.
        "networkerror",
        r"dns (query|lookup) (failed|error|timed? ?out)|name service error|name server "
        r"(reply|failure|error|timed? ?out)|servfail|temporary (dns|name resolution) "
        r"failure",
    ),
    (
        "hostunknown",
        r"host (or domain name )?(unknown|not found)|unknown (host|domain)|domain "
        r".{0,30}(not found|does not exist|doesn't exist|unknown|invalid|not exist)|no such "
        r"(domain|host)|unrouteable (mail )?domain|name or service not known|nxdomain|"
        r"non-existent (host|domain)|host not found|no mx|mx .{0,20}(not found|non-existent)"
        r"|domain name not found|could not be resolved|name server|dns .{0,20}(fail|error)|"
        r"cannot resolve|unable to resolve|host name lookup fail|domain .{0,30}not reachable|"
        r"(couldn't|could not|cannot|can't) find a mail exchanger|no mail exchanger|"
        r"(?<![@\w.-])[a-z0-9-]+(\.[a-z0-9-]+)+\.? does not exist",
    ),
    (
        # "Mail rejected" (French "Mail rejeté") without a recipient-side cause: the
        # message itself was refused, a content verdict.
        "spamdetected",
        r"\bmail (rejected|rejet[ée])",
    ),
    (
        "notaccept",
        r"(does|do) not accept (any )?(mail|e-?mail|messages)|accepts? no mail|null mx|"
        r"not accepting (network )?(mail|messages)",
    ),
    (
        "badreputation",
        r"reputation|user complaints|unexpected volume",
    ),
    (
        "blocked",
        r"black ?list|block ?list|blocked|banned|\bbanned\b|\brbl\b|dnsbl|spamhaus|spamcop|"
        r"barracuda|listed (at|in|on|by)|(your|the sending) (ip|host|server|network|domain)"
        r"|client host .{0,40}(rejected|refused|blocked)|access denied|connection (refused|"
        r"rejected|not accepted)|refused to talk|not allowed to send|sorbs|denied by|"
        r"service (refused|refus[ée])|veuillez essayer plus tard|not accepting connections|"
        r"(domain|host ?name|helo) mismatch(es)? .{0,20}\bip\b|client ip .{0,30}mismatch",
    ),
    (
        "systemfull",
        r"(disk|system|server) .{0,20}(full|storage)|insufficient (disk|system) "
        r"(space|storage)|out of (disk|storage)",
    ),
    (
        "expired",
        r"retry time|retry timeout|delivery time expired|expired|could not be delivered "
        r"(within|for)|give up|gave up|giving up|too long|past .{0,20}(deadline|limit)|"
        r"(has|have) been delayed|timed? ?out .{0,30}(delivery|queue)|were not able to "
        r"deliver .{0,40} days|undeliverable for|(in|on) the queue (too long|for more than)",
    ),
    (
        "speeding",
        r"rate limit|too many (messages|mails|emails|recipients)|sending rate|throttl|"
        r"receiving mail (at a rate|too quickly)|"
        r"exceeded .{0,20}(rate|limit)|try again later",
    ),
    (
        "toomanyconn",
        r"too many (connections|concurrent|sessions)",
    ),
    (
        "rejected",
        r"sender .{0,30}(rejected|refused|denied|invalid|not allowed|unknown|verif)|"
        r"(envelope|mail) from .{0,40}(rejected|refused|denied|invalid)|domain of sender|"
        r"sender (address|domain)|return path|not (allowed|authorized|permitted) to send|"
        r"sender verify",
    ),
    (
        "policyviolation",
        r"\bpolicy\b|policies|prohibited|not (permitted|allowed|authorized)",
    ),
    (
        "securityerror",
        r"security|encrypt|\btls\b|certificate|authentication required|auth required",
    ),
    (
        "filtered",
        r"filter|refused by recipient|recipient .{0,20}refus|rejected by recipient|"
        r"does not accept mail from you|not accept.{0,20}from|only accepts mail from",
    ),
    (
        "networkerror",
        r"timed? ?out|time-out|connection (lost|closed|dropped|reset)|network|mail loop|"
        r"routing loop|too many hops|loop ?(detected|count)|could not connect|"
        r"cannot connect|unable to connect|no route|not reachable|unreachable|socket error|"
        r"did not accept our requests to connect",
    ),
    (
        "syntaxerror",
        r"syntax error|command (unrecognized|not recognized)|bad sequence|invalid command|"
        r"malformed (recipient )?address|incorrectly constructed|parameter not implemented",
    ),
    (
        "mailererror",
        r"mailer error|(delivery|mail(er)?|local) program|program (exited|failed|error)|"
        r"command (died|failed)|\bpipe\b|exit (code|status)|"
        r"procmail|x-unix",
    ),
    (
        "contenterror",
        r"\bcontent\b|\bheaders?\b|attachment|\bmime\b|encoding",
    ),
    (
        "systemerror",
        r"system error|internal (server )?error|local error|server error|temporar|"
        r"resources|not available|unavailable|try again|deferred|error in processing|"
        r"transaction failed|write error",
    ),
]
COMPILED = [(reason, re.compile(pattern, re.IGNORECASE)) for reason, pattern in TEXT_RULES]
