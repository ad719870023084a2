"""Supervised fine-tuning rows for the recorder: Alpaca prompts, the prompt masked from the loss.

The format of the S2L and LP papers' code. :func:`tokenize_sft` turns an instruction/response
row into ``input_ids``/``labels`` with the prompt's labels at -100, so the per-example loss the
:class:`~hf_s2l.TrajectoryCallback` records is the response's loss (README step 1).
"""

from __future__ import annotations

from typing import Any

# The prompt of stanford_alpaca / S2L's train.py (PROMPT_DICT["prompt_no_input"]).
ALPACA_PROMPT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:"
)
ALPACA_PROMPT_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)


def format_prompt(instruction: str, input: str | None = None) -> str:
    """The Alpaca prompt for an instruction (and optional input)."""
    if input:
        return ALPACA_PROMPT_INPUT.format(instruction=instruction, input=input)
    return ALPACA_PROMPT.format(instruction=instruction)


def tokenize_sft(
    example: dict[str, Any],
    tokenizer: Any,
    *,
    max_length: int = 512,
    instruction_column: str = "instruction",
    output_column: str = "output",
    input_column: str | None = None,
) -> dict[str, list[int]]:
    """Tokenise prompt + response; the prompt's tokens get label -100 (masked from the loss).

    The response is followed by the EOS token. Sequences are truncated to ``max_length``;
    use with ``Dataset.map(tokenize_sft, fn_kwargs={"tokenizer": tok})``.
    """
    prompt = format_prompt(
        example[instruction_column], example.get(input_column) if input_column else None
    )
    response = " " + str(example[output_column]) + tokenizer.eos_token
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    r_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    input_ids = (p_ids + r_ids)[:max_length]
    labels = ([-100] * len(p_ids) + r_ids)[:max_length]
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}
