"""The buyer portal (``/buyer/``): alerts addressed to the buyer's organisation, what other
buyers of the same facility do, the remedy plan and the buyer's own actions."""
