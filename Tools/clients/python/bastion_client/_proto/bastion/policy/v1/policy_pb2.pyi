from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DEFAULT_POLICY_FIELD_NUMBER: _ClassVar[int]
DESCRIPTOR: _descriptor.FileDescriptor
POLICY_FIELD_NUMBER: _ClassVar[int]
default_policy: _descriptor.FieldDescriptor
policy: _descriptor.FieldDescriptor

class Authentication(_message.Message):
    __slots__ = ["caller", "not_a_risk", "remark", "second_factor", "statement"]
    class Caller(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    CALLER_ANONYMOUS: Authentication.Caller
    CALLER_FIELD_NUMBER: _ClassVar[int]
    CALLER_LOCAL_CLIENT: Authentication.Caller
    CALLER_LOGGED_IN_USER: Authentication.Caller
    CALLER_OPERATOR: Authentication.Caller
    CALLER_PENDING_REGISTRATION: Authentication.Caller
    CALLER_UNSPECIFIED: Authentication.Caller
    NOT_A_RISK_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    SECOND_FACTOR_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    caller: Authentication.Caller
    not_a_risk: bool
    remark: str
    second_factor: bool
    statement: str
    def __init__(self, statement: _Optional[str] = ..., not_a_risk: bool = ..., remark: _Optional[str] = ..., caller: _Optional[_Union[Authentication.Caller, str]] = ..., second_factor: bool = ...) -> None: ...

class Authorization(_message.Message):
    __slots__ = ["not_a_risk", "owned_resource_field", "remark", "statement"]
    NOT_A_RISK_FIELD_NUMBER: _ClassVar[int]
    OWNED_RESOURCE_FIELD_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    not_a_risk: bool
    owned_resource_field: str
    remark: str
    statement: str
    def __init__(self, statement: _Optional[str] = ..., not_a_risk: bool = ..., remark: _Optional[str] = ..., owned_resource_field: _Optional[str] = ...) -> None: ...

class Availability(_message.Message):
    __slots__ = ["max_deadline_millis", "max_in_flight", "not_a_risk", "operator_can_disable", "remark", "statement"]
    MAX_DEADLINE_MILLIS_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    NOT_A_RISK_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_CAN_DISABLE_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    max_deadline_millis: int
    max_in_flight: int
    not_a_risk: bool
    operator_can_disable: bool
    remark: str
    statement: str
    def __init__(self, statement: _Optional[str] = ..., not_a_risk: bool = ..., remark: _Optional[str] = ..., operator_can_disable: bool = ..., max_in_flight: _Optional[int] = ..., max_deadline_millis: _Optional[int] = ...) -> None: ...

class Check(_message.Message):
    __slots__ = ["max_request_bytes", "sealed_envelope_field", "uniform_errors"]
    MAX_REQUEST_BYTES_FIELD_NUMBER: _ClassVar[int]
    SEALED_ENVELOPE_FIELD_FIELD_NUMBER: _ClassVar[int]
    UNIFORM_ERRORS_FIELD_NUMBER: _ClassVar[int]
    max_request_bytes: int
    sealed_envelope_field: str
    uniform_errors: bool
    def __init__(self, max_request_bytes: _Optional[int] = ..., uniform_errors: bool = ..., sealed_envelope_field: _Optional[str] = ...) -> None: ...

class Confidentiality(_message.Message):
    __slots__ = ["checks", "not_a_risk", "remark", "statement"]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    NOT_A_RISK_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[Check]
    not_a_risk: bool
    remark: str
    statement: str
    def __init__(self, statement: _Optional[str] = ..., not_a_risk: bool = ..., remark: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[Check, _Mapping]]] = ...) -> None: ...

class Integrity(_message.Message):
    __slots__ = ["checks", "not_a_risk", "remark", "statement"]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    NOT_A_RISK_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[Check]
    not_a_risk: bool
    remark: str
    statement: str
    def __init__(self, statement: _Optional[str] = ..., not_a_risk: bool = ..., remark: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[Check, _Mapping]]] = ...) -> None: ...

class MethodPolicy(_message.Message):
    __slots__ = ["authentication", "authorization", "availability", "confidentiality", "integrity", "non_repudiation", "spam_prevention"]
    AUTHENTICATION_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENTIALITY_FIELD_NUMBER: _ClassVar[int]
    INTEGRITY_FIELD_NUMBER: _ClassVar[int]
    NON_REPUDIATION_FIELD_NUMBER: _ClassVar[int]
    SPAM_PREVENTION_FIELD_NUMBER: _ClassVar[int]
    authentication: Authentication
    authorization: Authorization
    availability: Availability
    confidentiality: Confidentiality
    integrity: Integrity
    non_repudiation: NonRepudiation
    spam_prevention: SpamPrevention
    def __init__(self, authentication: _Optional[_Union[Authentication, _Mapping]] = ..., integrity: _Optional[_Union[Integrity, _Mapping]] = ..., non_repudiation: _Optional[_Union[NonRepudiation, _Mapping]] = ..., confidentiality: _Optional[_Union[Confidentiality, _Mapping]] = ..., availability: _Optional[_Union[Availability, _Mapping]] = ..., authorization: _Optional[_Union[Authorization, _Mapping]] = ..., spam_prevention: _Optional[_Union[SpamPrevention, _Mapping]] = ...) -> None: ...

class NonRepudiation(_message.Message):
    __slots__ = ["audit_log", "not_a_risk", "remark", "statement"]
    AUDIT_LOG_FIELD_NUMBER: _ClassVar[int]
    NOT_A_RISK_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    audit_log: bool
    not_a_risk: bool
    remark: str
    statement: str
    def __init__(self, statement: _Optional[str] = ..., not_a_risk: bool = ..., remark: _Optional[str] = ..., audit_log: bool = ...) -> None: ...

class ProofOfWork(_message.Message):
    __slots__ = ["default_difficulty"]
    DEFAULT_DIFFICULTY_FIELD_NUMBER: _ClassVar[int]
    default_difficulty: int
    def __init__(self, default_difficulty: _Optional[int] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ["field", "key", "limit", "period_seconds"]
    class Key(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    FIELD_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_PEER_ADDRESS: RateLimit.Key
    KEY_PRINCIPAL: RateLimit.Key
    KEY_REQUEST_FIELD: RateLimit.Key
    KEY_UNSPECIFIED: RateLimit.Key
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    field: str
    key: RateLimit.Key
    limit: int
    period_seconds: int
    def __init__(self, key: _Optional[_Union[RateLimit.Key, str]] = ..., field: _Optional[str] = ..., limit: _Optional[int] = ..., period_seconds: _Optional[int] = ...) -> None: ...

class SpamPrevention(_message.Message):
    __slots__ = ["not_a_risk", "proof_of_work", "rate_limits", "remark", "statement"]
    NOT_A_RISK_FIELD_NUMBER: _ClassVar[int]
    PROOF_OF_WORK_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    not_a_risk: bool
    proof_of_work: ProofOfWork
    rate_limits: _containers.RepeatedCompositeFieldContainer[RateLimit]
    remark: str
    statement: str
    def __init__(self, statement: _Optional[str] = ..., not_a_risk: bool = ..., remark: _Optional[str] = ..., rate_limits: _Optional[_Iterable[_Union[RateLimit, _Mapping]]] = ..., proof_of_work: _Optional[_Union[ProofOfWork, _Mapping]] = ...) -> None: ...
