"""For learners: the gradient checker, the self-grading exercises and their diagnoses.

``gradcheck`` compares every backward pass with finite differences (lesson 6);
``exercises`` grades a learner's file (``tinyae check``) and ``diagnose`` names the
mistake when a gradient is wrong (lesson 11).
"""
