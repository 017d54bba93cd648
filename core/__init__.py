"""ConvLens engine: models, images, inference, export and training. No Qt here."""

import os

# Quiet TensorFlow's C++ start-up chatter and pin Keras to the TensorFlow backend before
# anything imports them. Setting environment variables is cheap; importing TF is not.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
