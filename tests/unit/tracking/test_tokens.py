"""Message tokens: the signature in every email's URLs."""

from itsdangerous import Signer

from nurture.tracking.tokens import MessageSigner, new_message_token


def test_a_signed_token_is_exactly_what_itsdangerous_signs_and_checks() -> None:
    signer = MessageSigner("secret-one")
    reference = Signer("secret-one", salt="nurture.message")
    for token in ["tok1", "", "a-b_c", *(new_message_token() for _ in range(50))]:
        signed = signer.sign(token)
        assert signed == reference.sign(token).decode("ascii")
        assert signer.unsign(signed) == token


def test_a_token_signed_with_another_secret_is_refused() -> None:
    signed = MessageSigner("secret-one").sign("tok1")
    assert MessageSigner("secret-two").unsign(signed) is None
    assert MessageSigner("secret-one").unsign("tok2" + signed[4:]) is None


def test_only_the_signature_sign_writes_is_accepted() -> None:
    signer = MessageSigner("secret-one")
    signed = signer.sign("tok1")
    token, _, signature = signed.rpartition(".")
    refused = [
        "",
        "tok1",  # no signature
        signed + "=",  # padded: itsdangerous takes it, no URL of ours has it
        signed + "!",
        f"{token}.{signature[:-1]}",
        f"{token}x.{signature}",
        f"tök1.{signature}",  # not ASCII: no token is
        "." + signature,
    ]
    for value in refused:
        assert signer.unsign(value) is None, value
    # A dot inside the token is fine: the signature is after the last one.
    assert signer.unsign(signer.sign("a.b")) == "a.b"
