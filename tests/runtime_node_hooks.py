"""Node processes for the tests, with a fault to inject: ``python tests/runtime_node_hooks.py --hang-in-round K client ...``.

The client reports ``training`` when round K's ``train`` request arrives and then never answers it, so a
test can kill the process while the server's rpc is in flight (a client killed in the middle of a round).
Anything else is ``python -m fedcl_lint.runtime.node``'s.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from fedcl_lint.runtime.federation import Client
from fedcl_lint.runtime.node import main, report

HANG_IN_ROUND = 0


class HangingClient(Client):
    async def _handle_train(self, source: str, data: Any) -> dict[str, Any]:
        if int(data["round"]) == HANG_IN_ROUND:
            report("training", node=self.node_id, round=HANG_IN_ROUND)
            await asyncio.sleep(60)  # killed long before; bounded all the same
        return await super()._handle_train(source, data)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--hang-in-round"]:
        HANG_IN_ROUND = int(arguments[1])
        arguments = arguments[2:]
    sys.exit(main(arguments, client_class=HangingClient))
