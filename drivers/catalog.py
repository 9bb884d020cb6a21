"""Our own instrument models, one tuple per family: what our ``leakrig.instruments`` entry points name.

Each family is declared here once and reaches :data:`drivers.models.MODELS` the way a
plugin's models do, through an entry point in ``pyproject.toml`` (``[project.entry-points.
"leakrig.instruments"]``), so nothing distinguishes a model of ours from a lab's own.
"""

from __future__ import annotations

from drivers.models import (
    BARATRON_1000_TORR_FULL_SCALE_PA,
    CMR361_FULL_SCALE_PA,
    MUX_34901A_ACTUATOR_34903A,
    ZERO_DRIFT_FS_PER_S,
    ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K,
    FlowRange,
    InstrumentModel,
)

__all__ = [
    "AGILENT_XGS600",
    "ALICAT",
    "EDWARDS_TIC",
    "INFICON_VGC50X",
    "KEYSIGHT_DAQ",
    "MKS_937B",
    "PFEIFFER_TPG36X",
]


def _tpg36x(name: str, gauge_channels: int) -> InstrumentModel:
    # A TPG 36x prints ``{:.4E}``: 5 significant digits (protocols.md §1.1).
    return InstrumentModel(
        name,
        "gauge",
        driver="drivers.tpg36x:Tpg36x",
        simulator="rig.sim.server_factories:tpg",
        gauge_channels=gauge_channels,
        display_digits=5,
        zero_stability_pa_s=ZERO_DRIFT_FS_PER_S * CMR361_FULL_SCALE_PA,
        zero_temperature_coefficient_pa_k=ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K * CMR361_FULL_SCALE_PA,
    )


def _daq970a(name: str) -> InstrumentModel:
    return InstrumentModel(
        name,
        "daq",
        driver="drivers.daq970a:Daq970a",
        simulator="rig.sim.server_factories:daq",
        daq_layout=MUX_34901A_ACTUATOR_34903A,
    )


#: Pfeiffer TPG 361, 362 and 366 (the mnemonic protocol, protocols.md §1.1).
PFEIFFER_TPG36X = (_tpg36x("TPG361", 1), _tpg36x("TPG362", 2), _tpg36x("TPG366", 6))

#: MKS 937B (``@253PR1?;FF``, protocols.md §1.2).
MKS_937B = (
    InstrumentModel(
        "MKS937B",
        "gauge",
        driver="drivers.mks937b:Mks937b",
        simulator="rig.sim.server_factories:mks",
        gauge_channels=6,
        # RS-485: 254 is the broadcast address, which every controller on the line answers.
        addresses=range(1, 254),
        # ``7.60E+2``: 3 significant digits (protocols.md §1.2).
        display_digits=3,
        zero_stability_pa_s=ZERO_DRIFT_FS_PER_S * BARATRON_1000_TORR_FULL_SCALE_PA,
        zero_temperature_coefficient_pa_k=(
            ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K * BARATRON_1000_TORR_FULL_SCALE_PA
        ),
    ),
)

#: Keysight DAQ970A, Agilent 34972A and HP 34970A with a 34901A and a 34903A (SCPI, §2.1).
KEYSIGHT_DAQ = (_daq970a("DAQ970A"), _daq970a("34972A"), _daq970a("34970A"))


def _vgc50x(name: str, gauge_channels: int) -> InstrumentModel:
    # A VGC 50x prints ``sx.xxxxEsxx`` (manual tina96e1-b p. 72): 5 significant digits. On a leak
    # rig it reads an INFICON CDG025D capacitance gauge of 1000 Torr full scale, whose zero is
    # specified like the Baratron's of the same full scale: the class figures of drivers/models.py.
    return InstrumentModel(
        name,
        "gauge",
        driver="drivers.vgc50x:Vgc50x",
        simulator="rig.sim.server_factories:vgc",
        gauge_channels=gauge_channels,
        display_digits=5,
        zero_stability_pa_s=ZERO_DRIFT_FS_PER_S * BARATRON_1000_TORR_FULL_SCALE_PA,
        zero_temperature_coefficient_pa_k=(
            ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K * BARATRON_1000_TORR_FULL_SCALE_PA
        ),
    )


#: INFICON VGC 501/502/503 (the mnemonic protocol's VGC dialect, §1.1).
INFICON_VGC50X = (_vgc50x("VGC501", 1), _vgc50x("VGC502", 2), _vgc50x("VGC503", 3))

#: Agilent (Varian) XGS-600 (``#00``-commands, §1.3).
AGILENT_XGS600 = (
    InstrumentModel(
        "XGS600",
        "gauge",
        driver="drivers.xgs600:Xgs600",
        simulator="rig.sim.server_factories:xgs",
        # Six board slots of at most two sensors each (a convection or analog board): the
        # fields of its pressure dump ``#000F``, channel 1 the leftmost.
        gauge_channels=12,
        # ``1.234E-03``: 4 significant digits (manual Table B-1).
        display_digits=4,
        # Its pressure channels on our benches are capacitance manometers read through the
        # analog board, like the TPG's CMR 361 (1100 hPa): the same datasheet zero figures.
        zero_stability_pa_s=ZERO_DRIFT_FS_PER_S * CMR361_FULL_SCALE_PA,
        zero_temperature_coefficient_pa_k=ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K * CMR361_FULL_SCALE_PA,
    ),
)

# The capacitance head our TIC bench reads its article and reference on (procedures/benches/
# tic_chamber.yaml): 2000 hPa full scale.
CAPACITANCE_2000_HPA_PA = 200e3

#: Edwards TIC instrument controller, 3 gauge inputs (``?V913`` → ``=V913 5.0691e+01;59;11;0;0``, §1.4).
EDWARDS_TIC = (
    InstrumentModel(
        "TIC",
        "gauge",
        driver="drivers.edwards_tic:EdwardsTic",
        simulator="rig.sim.server_factories:tic",
        gauge_channels=3,
        # ``5.0691e+01``: 5 significant digits, in Pa whatever the display unit.
        display_digits=5,
        # The datasheet class figures the other controllers' heads use (drivers/models.py), scaled
        # to that head's full scale: its zero moves with ambient temperature and drifts with time
        # like any absolute diaphragm transducer's.
        zero_stability_pa_s=ZERO_DRIFT_FS_PER_S * CAPACITANCE_2000_HPA_PA,
        zero_temperature_coefficient_pa_k=ZERO_TEMPERATURE_COEFFICIENT_FS_PER_K * CAPACITANCE_2000_HPA_PA,
    ),
)


def _alicat(name: str, kind: str, full_scale_sccm: float) -> InstrumentModel:
    # Alicat M/MC datasheet: accuracy ±(0.8 % of reading + 0.2 % of full scale); repeatability
    # ±0.2 % of full scale, taken as 2 σ of the reading's white noise (0.1 % FS, 1 σ). Flows are
    # printed with three decimals (``+000.000``): a step of 0.001 sccm. Standard conditions are
    # Alicat's defaults, 25 °C and 14.696 psia.
    flow = FlowRange(
        full_scale_sccm, accuracy_reading=0.008, accuracy_full_scale=0.002, resolution_sccm=0.001,
        noise_full_scale=0.001,
    )  # fmt: skip
    driver = "drivers.alicat:AlicatController" if kind == "flow_controller" else "drivers.alicat:AlicatMeter"
    return InstrumentModel(
        name,
        "flow_controller" if kind == "flow_controller" else "flow_meter",
        driver=driver,
        simulator="rig.sim.server_factories:alicat",
        # A bench's ``address:`` n is the unit ID, the n-th letter: 1 is "A" (the factory
        # default), 26 is "Z". Several units share one RS-485 line by their IDs.
        addresses=range(1, 27),
        flow=flow,
    )


#: Alicat mass-flow meters (M) and controllers (MC), 10 and 100 sccm full scale (``A<CR>``
#: data frames, §2.4): the range matters, the accuracy's floor is 0.2 % of it.
ALICAT = (
    _alicat("AlicatM-10SCCM", "flow_meter", 10.0),
    _alicat("AlicatM-100SCCM", "flow_meter", 100.0),
    _alicat("AlicatMC-10SCCM", "flow_controller", 10.0),
    _alicat("AlicatMC-100SCCM", "flow_controller", 100.0),
)
