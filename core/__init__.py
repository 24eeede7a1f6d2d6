"""Domain rules that need neither Streamlit nor SQL: configuration, taxonomy, formats."""
