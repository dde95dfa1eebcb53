"""consent"""
