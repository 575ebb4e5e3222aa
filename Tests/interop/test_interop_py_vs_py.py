"""Self-check of the Python side: the same tests, with Python on both ends.

Runs the tests of test_interop_py_client_vs_swift_server.py,
test_interop_swift_client_vs_py_server.py, test_bad_input.py and
test_wire_format.py with the
server/client under test replaced by py_interop_server.py /
py_interop_client.py, so the suite itself is verified without the Swift
binary (and the bad-input expectations are calibrated against grpcio).
"""

import pytest

from test_interop_py_client_vs_swift_server import (  # noqa: F401  (collected here too)
    test_concurrent_large_unary, test_health_check, test_py_client_vs_server_under_test,
    test_server_exits_zero_on_signal, test_still_serving_after_all_cases,
)
from test_interop_swift_client_vs_py_server import (  # noqa: F401
    test_client_under_test_vs_py_server, test_unknown_case_fails,
)
from test_bad_input import (  # noqa: F401
    h2c_server, small_limit_server, test_garbage_connection_is_closed, test_huge_length_prefix,
    test_invalid_protobuf_request, test_max_receive_message_size,
    test_max_receive_message_size_streaming, test_oversized_frame_is_rejected,
    test_server_survived_everything, test_truncated_frame_left_hanging_does_not_block_others,
    test_truncated_frame_then_close,
)
from test_wire_format import (  # noqa: F401
    test_binary_trailer_echo_is_base64, test_compressed_flag_without_encoding,
    test_status_message_is_percent_encoded, test_success_response_shape,
    test_unimplemented_is_http_200, wire_server,
)


@pytest.fixture(scope="session")
def server_cmd(py_server_cmd):
    return py_server_cmd


@pytest.fixture(scope="session")
def client_cmd(py_client_cmd):
    return py_client_cmd
