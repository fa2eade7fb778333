"""The supply-chain map: facilities, suppliers, buyers, contracts and which desk covers what."""
