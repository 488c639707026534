from etawatch_testing.portal import portal_factory

__all__ = ["portal_factory"]
