"""A plugin whose import fails, as one with a missing dependency would."""

raise ImportError("leakrig_broken needs the vendor library 'nidaqmx', which is not installed")
