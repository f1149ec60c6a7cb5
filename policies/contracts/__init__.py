"""The contracts the program, envctl and the policy pack share: the physical-name grammar
(`names`) and the conventions (`conventions`: the Pulumi project, type tokens, tag keys, the
card's fields, the plan's schema version).

They live in the pack so that `policies/` stands alone: a copy of this folder, installed from its
own requirements.txt, carries everything it imports. The program and envctl import them from here.
Standard library only."""
