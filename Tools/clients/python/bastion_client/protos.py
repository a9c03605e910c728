"""The generated protobuf modules, under short names.

``from bastion_client.protos import auth_pb2, echo_pb2, health_pb2, queue_pb2, rpc_pb2, two_factor_pb2,
second_factors_pb2``. They come from
``protoc --python_out`` on the repository's ``proto/`` files (see ``generate.sh``).
"""

from ._proto.bastion.auth.v1 import auth_pb2, second_factors_pb2, two_factor_pb2
from ._proto.bastion.echo.v1 import echo_pb2
from ._proto.bastion.health.v1 import health_pb2
from ._proto.bastion.queue.v1 import queue_pb2
from ._proto.bastion.rpc.v1 import envelope_pb2, rpc_pb2

__all__ = [
    "auth_pb2", "echo_pb2", "envelope_pb2", "health_pb2", "queue_pb2", "rpc_pb2", "second_factors_pb2", "two_factor_pb2",
]
