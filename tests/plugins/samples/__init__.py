"""Sample plugins (good, raising, invalid, GAC listings) that the plugin tests load."""
