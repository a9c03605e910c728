from bastion_client._proto.bastion.policy.v1 import policy_pb2 as _policy_pb2
from bastion_client._proto.bastion.rpc.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClientKeyPackage(_message.Message):
    __slots__ = ["init_key", "key_id", "queue_id", "signature_key"]
    INIT_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_KEY_FIELD_NUMBER: _ClassVar[int]
    init_key: bytes
    key_id: bytes
    queue_id: str
    signature_key: bytes
    def __init__(self, queue_id: _Optional[str] = ..., init_key: _Optional[bytes] = ..., signature_key: _Optional[bytes] = ..., key_id: _Optional[bytes] = ...) -> None: ...

class DequeueRequest(_message.Message):
    __slots__ = ["max_messages", "queue_id", "sequence_number_start"]
    MAX_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_START_FIELD_NUMBER: _ClassVar[int]
    max_messages: int
    queue_id: str
    sequence_number_start: int
    def __init__(self, queue_id: _Optional[str] = ..., sequence_number_start: _Optional[int] = ..., max_messages: _Optional[int] = ...) -> None: ...

class DequeueResponse(_message.Message):
    __slots__ = ["messages", "remaining"]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[QueuedMessage]
    remaining: int
    def __init__(self, messages: _Optional[_Iterable[_Union[QueuedMessage, _Mapping]]] = ..., remaining: _Optional[int] = ...) -> None: ...

class EnqueueRequest(_message.Message):
    __slots__ = ["envelope", "queue_id"]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    envelope: _envelope_pb2.SealedEnvelope
    queue_id: str
    def __init__(self, queue_id: _Optional[str] = ..., envelope: _Optional[_Union[_envelope_pb2.SealedEnvelope, _Mapping]] = ...) -> None: ...

class EnqueueResponse(_message.Message):
    __slots__ = ["sequence_number"]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    sequence_number: int
    def __init__(self, sequence_number: _Optional[int] = ...) -> None: ...

class GetKeyPackagesRequest(_message.Message):
    __slots__ = ["user_id"]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetKeyPackagesResponse(_message.Message):
    __slots__ = ["key_packages", "user_id"]
    KEY_PACKAGES_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    key_packages: _containers.RepeatedCompositeFieldContainer[ClientKeyPackage]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ..., key_packages: _Optional[_Iterable[_Union[ClientKeyPackage, _Mapping]]] = ...) -> None: ...

class ListenRequest(_message.Message):
    __slots__ = ["queue_id", "sequence_number_start"]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_START_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    sequence_number_start: int
    def __init__(self, queue_id: _Optional[str] = ..., sequence_number_start: _Optional[int] = ...) -> None: ...

class QueueRecord(_message.Message):
    __slots__ = ["byte_count", "created_unix_millis", "init_key", "message_count", "next_sequence_number", "owner_fingerprint", "queue_id", "signature_key", "user_id"]
    BYTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MILLIS_FIELD_NUMBER: _ClassVar[int]
    INIT_KEY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    NEXT_SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OWNER_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_KEY_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    byte_count: int
    created_unix_millis: int
    init_key: bytes
    message_count: int
    next_sequence_number: int
    owner_fingerprint: str
    queue_id: str
    signature_key: bytes
    user_id: str
    def __init__(self, queue_id: _Optional[str] = ..., owner_fingerprint: _Optional[str] = ..., user_id: _Optional[str] = ..., init_key: _Optional[bytes] = ..., signature_key: _Optional[bytes] = ..., next_sequence_number: _Optional[int] = ..., message_count: _Optional[int] = ..., byte_count: _Optional[int] = ..., created_unix_millis: _Optional[int] = ...) -> None: ...

class QueuedMessage(_message.Message):
    __slots__ = ["enqueued_unix_millis", "envelope", "sequence_number"]
    ENQUEUED_UNIX_MILLIS_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    enqueued_unix_millis: int
    envelope: _envelope_pb2.SealedEnvelope
    sequence_number: int
    def __init__(self, sequence_number: _Optional[int] = ..., envelope: _Optional[_Union[_envelope_pb2.SealedEnvelope, _Mapping]] = ..., enqueued_unix_millis: _Optional[int] = ...) -> None: ...
