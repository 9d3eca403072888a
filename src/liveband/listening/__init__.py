"""Listening test (paper 6.4, Table 4): kit contract, stimuli, statistics."""
