"""Software stand-ins for the outside world: the CCCD chip and (later) the BHXH gateway."""
