"""A local PAC (Mexico's authorized CFDI certifier) speaking SW Sapien's REST contract."""
