"""For learners: the gradient checker, the self-grading exercises and their diagnoses.

``gradcheck`` compares every backward pass with finite differences (lesson 6; its table
in ``gradcheck_report``). The exercises of lesson 11 (``tinyae check``): ``exercises/``
holds one spec module per topic (activations, dense, losses, autoencoder, penalties,
BatchNorm, Dropout) with the mistakes each recognises, and ``runner`` (loading a file,
``check_exercise``); ``checker`` runs a student's function case by case, ``diagnose``
names a wrong gradient, ``crash`` explains an exception, ``report`` prints the table.
For instructors: ``formats`` (JSON, JUnit, Gradescope), ``handout`` (``tinyae exercises
release``), ``classgrade`` (``tinyae exercises grade``) and ``train_student`` (the
student's own backward pass training the model).
"""
