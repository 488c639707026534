"""The portal's web application and its command line."""
