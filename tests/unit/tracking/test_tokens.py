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
