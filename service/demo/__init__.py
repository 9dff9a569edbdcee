"""The demo county (示范县): its org tree, names, calendar and the driver that records it through the commands."""
