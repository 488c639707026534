"""The portal's catalogue, its scenario and its fault switches: pure logic, no I/O."""
