"""Device drivers: the driver interface, the registry, codecs and the simulated device.

Open a device from a spec string with :func:`isogrip.ble_device.registry.open_device`.
"""
