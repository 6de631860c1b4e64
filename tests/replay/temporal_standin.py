"""An in-process stand-in for the Temporal frontend, answering only the RPCs `wftest replay --temporal`
uses through temporalio's client: GetSystemInfo (on connect), ListWorkflowExecutions and
GetWorkflowExecutionHistory. It listens on the loopback address only."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent import futures
from typing import Any

import grpc
from temporalio.api.common.v1 import WorkflowExecution, WorkflowType
from temporalio.api.history.v1 import History
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import request_response_pb2 as rr

SERVICE = "temporal.api.workflowservice.v1.WorkflowService"


class TemporalStandIn:
    """Serves fixed histories: (workflow id, workflow type, History) triples."""

    def __init__(self, histories: Sequence[tuple[str, str, History]]) -> None:
        self.histories = list(histories)
        self.queries: list[str] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handlers = {
            "GetSystemInfo": (rr.GetSystemInfoRequest, self.get_system_info),
            "ListWorkflowExecutions": (rr.ListWorkflowExecutionsRequest, self.list_workflows),
            "GetWorkflowExecutionHistory": (rr.GetWorkflowExecutionHistoryRequest, self.get_history),
        }
        methods = {
            name: grpc.unary_unary_rpc_method_handler(
                handler, request_deserializer=request.FromString, response_serializer=lambda m: m.SerializeToString()
            )
            for name, (request, handler) in handlers.items()
        }
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, methods),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def __enter__(self) -> TemporalStandIn:
        self.server.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.stop(grace=None)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def get_system_info(self, request: Any, context: Any) -> rr.GetSystemInfoResponse:
        return rr.GetSystemInfoResponse(server_version="standin")

    def list_workflows(self, request: Any, context: Any) -> rr.ListWorkflowExecutionsResponse:
        self.queries.append(request.query)
        infos = [
            WorkflowExecutionInfo(
                execution=WorkflowExecution(workflow_id=wid, run_id=h.events[0]
                                            .workflow_execution_started_event_attributes.original_execution_run_id),
                type=WorkflowType(name=wtype),
            )
            for wid, wtype, h in self.histories
        ]
        return rr.ListWorkflowExecutionsResponse(executions=infos)

    def get_history(self, request: Any, context: Any) -> rr.GetWorkflowExecutionHistoryResponse:
        for wid, _, history in self.histories:
            if wid == request.execution.workflow_id:
                return rr.GetWorkflowExecutionHistoryResponse(history=history)
        context.abort(grpc.StatusCode.NOT_FOUND, "no such workflow")
        raise AssertionError
