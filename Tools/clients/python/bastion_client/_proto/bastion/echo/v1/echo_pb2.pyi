from bastion_client._proto.bastion.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class EchoRequest(_message.Message):
    __slots__ = ["delay_millis", "fail_with_code", "fail_with_message", "payload", "repeat", "retry_after_millis", "text"]
    DELAY_MILLIS_FIELD_NUMBER: _ClassVar[int]
    FAIL_WITH_CODE_FIELD_NUMBER: _ClassVar[int]
    FAIL_WITH_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    REPEAT_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MILLIS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    delay_millis: int
    fail_with_code: int
    fail_with_message: str
    payload: bytes
    repeat: int
    retry_after_millis: int
    text: str
    def __init__(self, text: _Optional[str] = ..., payload: _Optional[bytes] = ..., repeat: _Optional[int] = ..., delay_millis: _Optional[int] = ..., fail_with_code: _Optional[int] = ..., fail_with_message: _Optional[str] = ..., retry_after_millis: _Optional[int] = ...) -> None: ...

class EchoResponse(_message.Message):
    __slots__ = ["index", "payload", "text"]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    index: int
    payload: bytes
    text: str
    def __init__(self, text: _Optional[str] = ..., payload: _Optional[bytes] = ..., index: _Optional[int] = ...) -> None: ...
