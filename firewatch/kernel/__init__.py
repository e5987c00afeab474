"""The kernel: the field contract's vocabulary (device kinds, fields, events, reasons), MQTT
topics, the clock and the broker's address. No I/O, no configuration; it imports nothing of
ours, and every stage and the composition root build on it."""
