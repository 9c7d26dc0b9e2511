"""The collection half: functions of the records table, never of the images."""
