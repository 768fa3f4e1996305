from flask import Blueprint

bp = Blueprint("ht_documents", __name__)
