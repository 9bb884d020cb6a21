"""The published ``alicat`` 0.9.0 client (asyncio, TCP ``host:port``) against our simulated unit.

An independent reading of the protocol: if its frames, setpoints and register 122 agree with
our server's, our driver and server are not merely agreeing with each other.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from drivers.models import MODELS
from rig.sim.backend import ControlMode, FlowSample, StaticFlow
from rig.sim.servers.alicat import AlicatServer

alicat = pytest.importorskip("alicat")

pytestmark = pytest.mark.integration

FLOW = MODELS["AlicatMC-10SCCM"].flow
assert FLOW is not None


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout=10.0))


def test_the_client_reads_sets_and_reads_the_control_point() -> None:
    line = StaticFlow(FlowSample(101325.0, 25.0, 0.0))

    async def session(address: str) -> list[dict[str, Any]]:
        async with alicat.FlowController(address) as mfc:
            frames = [await mfc.get()]
            await mfc.set_flow_rate(5.0)
            frames.append(await mfc.get())
            await mfc.set_pressure(29.0)
            frames.append(await mfc.get())
            return frames

    with AlicatServer(line, FLOW) as server:
        host, port = server.bound_address
        idle, flowing, holding = run(session(f"{host}:{port}"))
    assert idle == {
        "pressure": 14.7,
        "temperature": 25.0,
        "volumetric_flow": 0.0,
        "mass_flow": 0.0,
        "setpoint": 0.0,
        "gas": "N2",
        "control_point": "mass flow",
    }
    assert flowing["setpoint"] == 5.0 and flowing["mass_flow"] == 5.0
    assert holding["control_point"] == "abs pressure" and holding["setpoint"] == 29.0
    assert line.commands[-1] == (ControlMode.PRESSURE, pytest.approx(29.0 * 6894.757293168))


def test_the_client_reads_the_register_firmware_and_gas() -> None:
    line = StaticFlow(FlowSample(2e5, 20.0, 0.0))

    async def session(address: str) -> tuple[str, str, dict[str, Any]]:
        async with alicat.FlowController(address) as mfc:
            point = await mfc._get_control_point()
            firmware = await mfc.get_firmware()
            await mfc.set_gas("Ar")
            return point, firmware, await mfc.get()

    with AlicatServer(line, FLOW) as server:
        host, port = server.bound_address
        point, firmware, frame = run(session(f"{host}:{port}"))
    assert point == "mass flow"
    assert "10v05" in firmware
    assert frame["gas"] == "Ar" and frame["pressure"] == pytest.approx(2e5 / 6894.757293168, abs=0.005)


def test_the_client_reads_a_meter() -> None:
    line = StaticFlow(FlowSample(101325.0, 25.0, 3.0 * FLOW.mol_s_per_sccm))

    async def session(address: str) -> dict[str, Any]:
        async with alicat.FlowMeter(address) as meter:
            frame: dict[str, Any] = await meter.get()
            return frame

    with AlicatServer(line, FLOW, controller=False) as server:
        host, port = server.bound_address
        frame = run(session(f"{host}:{port}"))
    assert frame["mass_flow"] == 3.0 and "setpoint" not in frame
