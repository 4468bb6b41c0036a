"""Push transport plugins (LINE, an Android override, a broken one) for the transport tests."""
