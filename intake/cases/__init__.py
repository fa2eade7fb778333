"""Cases: reports grouped by a desk, with sealed notes and the de-identified summary."""
