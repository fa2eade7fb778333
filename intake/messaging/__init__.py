"""SMS and WhatsApp conversation state, processed inbound ids and outbound messages."""
