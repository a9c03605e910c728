from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class AddSecurityQuestionRequest(_message.Message):
    __slots__ = ["answer", "label", "question"]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    answer: str
    label: str
    question: str
    def __init__(self, question: _Optional[str] = ..., answer: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class ConfirmChannelRequest(_message.Message):
    __slots__ = ["code", "factor_id"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    code: str
    factor_id: str
    def __init__(self, factor_id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class EnrollChannelRequest(_message.Message):
    __slots__ = ["address", "channel", "label"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    address: str
    channel: str
    label: str
    def __init__(self, channel: _Optional[str] = ..., address: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class EnrollChannelResponse(_message.Message):
    __slots__ = ["address_hint", "code_prefix", "confirm_before_unix_seconds", "factor_id", "same_code_until_unix_seconds"]
    ADDRESS_HINT_FIELD_NUMBER: _ClassVar[int]
    CODE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_BEFORE_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    SAME_CODE_UNTIL_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    address_hint: str
    code_prefix: str
    confirm_before_unix_seconds: int
    factor_id: str
    same_code_until_unix_seconds: int
    def __init__(self, factor_id: _Optional[str] = ..., code_prefix: _Optional[str] = ..., confirm_before_unix_seconds: _Optional[int] = ..., same_code_until_unix_seconds: _Optional[int] = ..., address_hint: _Optional[str] = ...) -> None: ...

class IssueAccessCodeRequest(_message.Message):
    __slots__ = ["digits", "lifetime_seconds", "scope", "subject"]
    DIGITS_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    digits: int
    lifetime_seconds: int
    scope: str
    subject: str
    def __init__(self, scope: _Optional[str] = ..., subject: _Optional[str] = ..., digits: _Optional[int] = ..., lifetime_seconds: _Optional[int] = ...) -> None: ...

class IssueAccessCodeResponse(_message.Message):
    __slots__ = ["code", "expires_unix_seconds"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    code: str
    expires_unix_seconds: int
    def __init__(self, code: _Optional[str] = ..., expires_unix_seconds: _Optional[int] = ...) -> None: ...

class RedeemAccessCodeRequest(_message.Message):
    __slots__ = ["code"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class RedeemAccessCodeResponse(_message.Message):
    __slots__ = ["expires_unix_seconds", "issued_by", "scope", "subject", "token"]
    EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ISSUED_BY_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    expires_unix_seconds: int
    issued_by: str
    scope: str
    subject: str
    token: str
    def __init__(self, token: _Optional[str] = ..., scope: _Optional[str] = ..., subject: _Optional[str] = ..., issued_by: _Optional[str] = ..., expires_unix_seconds: _Optional[int] = ...) -> None: ...

class ResendEnrollmentCodeRequest(_message.Message):
    __slots__ = ["factor_id"]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    factor_id: str
    def __init__(self, factor_id: _Optional[str] = ...) -> None: ...

class ResendEnrollmentCodeResponse(_message.Message):
    __slots__ = ["code_expires_unix_seconds", "new_code", "same_code_until_unix_seconds"]
    CODE_EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NEW_CODE_FIELD_NUMBER: _ClassVar[int]
    SAME_CODE_UNTIL_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    code_expires_unix_seconds: int
    new_code: bool
    same_code_until_unix_seconds: int
    def __init__(self, new_code: bool = ..., same_code_until_unix_seconds: _Optional[int] = ..., code_expires_unix_seconds: _Optional[int] = ...) -> None: ...

class SendChallengeCodeRequest(_message.Message):
    __slots__ = ["challenge_id", "factor_id"]
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    FACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    factor_id: str
    def __init__(self, challenge_id: _Optional[str] = ..., factor_id: _Optional[str] = ...) -> None: ...

class SendChallengeCodeResponse(_message.Message):
    __slots__ = ["attempts_left", "code_expires_unix_seconds", "code_prefix", "new_code", "same_code_until_unix_seconds"]
    ATTEMPTS_LEFT_FIELD_NUMBER: _ClassVar[int]
    CODE_EXPIRES_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CODE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    NEW_CODE_FIELD_NUMBER: _ClassVar[int]
    SAME_CODE_UNTIL_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    attempts_left: int
    code_expires_unix_seconds: int
    code_prefix: str
    new_code: bool
    same_code_until_unix_seconds: int
    def __init__(self, new_code: bool = ..., code_prefix: _Optional[str] = ..., same_code_until_unix_seconds: _Optional[int] = ..., code_expires_unix_seconds: _Optional[int] = ..., attempts_left: _Optional[int] = ...) -> None: ...
