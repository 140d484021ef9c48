"""pytest-imagebuild: machine-image templates (Packer's JSON format) as pytest tests."""

__version__ = "0.1.0"
