"""Run records and recorded series: reading what the rig (or anyone) wrote down."""
