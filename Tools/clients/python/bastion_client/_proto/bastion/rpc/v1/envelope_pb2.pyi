from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class SealedEnvelope(_message.Message):
    __slots__ = ["ciphertext", "ephemeral_public_key", "recipient_key_id", "version"]
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ciphertext: bytes
    ephemeral_public_key: bytes
    recipient_key_id: bytes
    version: int
    def __init__(self, version: _Optional[int] = ..., recipient_key_id: _Optional[bytes] = ..., ephemeral_public_key: _Optional[bytes] = ..., ciphertext: _Optional[bytes] = ...) -> None: ...
