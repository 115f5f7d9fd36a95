"""A LINE chatbot that answers Thai citizens' questions about Thailand's smart-city programmes."""

import os

# PyThaiNLP must never download models or write to ~/pythainlp-data: the machines are offline
# and a silent download attempt costs minutes. Set before any pythainlp import.
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

__version__ = "0.1.0"
