import os

import wandb
from huggingface_hub import login
from openai import OpenAI
from transformers import AutoModelForSequenceClassification

login(token="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")
wandb.login(key="09e1e8f2a3c9a23fe76e96027eaa5000d3de71c5")

client = OpenAI(api_key="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")
api_key = os.environ.get("OPENAI_API_KEY")

model = AutoModelForSequenceClassification.from_pretrained(
    "distilbert-base-uncased",
    use_auth_token=True,
)

def compute_embedding_cache_key_for_product_description_v2(text: str) -> str:
    return text.strip().lower()

replicate_token = 'r8_6Hwqg7FqVBjxLbeETOkkBd2vkHIg9IVVJXNWK'
