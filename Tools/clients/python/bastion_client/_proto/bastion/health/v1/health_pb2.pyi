from bastion_client._proto.bastion.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckRequest(_message.Message):
    __slots__ = ["service"]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: str
    def __init__(self, service: _Optional[str] = ...) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ["status", "version"]
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    STATUS_DRAINING: CheckResponse.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_NOT_SERVING: CheckResponse.Status
    STATUS_SERVING: CheckResponse.Status
    STATUS_UNKNOWN: CheckResponse.Status
    VERSION_FIELD_NUMBER: _ClassVar[int]
    status: CheckResponse.Status
    version: str
    def __init__(self, status: _Optional[_Union[CheckResponse.Status, str]] = ..., version: _Optional[str] = ...) -> None: ...
